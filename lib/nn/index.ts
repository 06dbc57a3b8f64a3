/** (filled in by the nn work) */
export {};
