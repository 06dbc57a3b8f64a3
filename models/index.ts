/** ARRA's networks: the VQ tokenizer, the autoregressive transformer, frozen encoders and the ARRA objective. */
export {};
