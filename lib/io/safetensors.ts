/**
 * The safetensors checkpoint format (https://github.com/huggingface/safetensors), read and
 * written from scratch: the public names of the four files that implement it, gathered so
 * that `lib/io/safetensors` and `lib/io` export what they always did.
 *
 * A file is an 8-byte little-endian header length N, N bytes of JSON header (dtype, shape
 * and byte range of each tensor, plus optional string metadata), then the raw little-endian
 * data. Where each part lives:
 * - safetensors-format.ts — the layout, dtypes, limits, the error type, the non-finite check
 *   and the JSON-in-metadata convention;
 * - safetensors-validate.ts — every check a header must pass before it is trusted;
 * - safetensors-write.ts — serializeSafetensors / saveSafetensors;
 * - safetensors-read.ts — parseSafetensors / loadSafetensors / readSafetensorsHeader.
 */
export {
  jsonMetadata, readJsonMetadata, SafetensorsError,
  type RawData, type RawTensor, type SafetensorsDType, type SafetensorsFile,
} from './safetensors-format';
export { saveSafetensors, serializeSafetensors, type SafetensorsInput, type SaveSafetensorsOptions } from './safetensors-write';
export {
  loadSafetensors, parseSafetensors, readSafetensorsHeader, type LoadSafetensorsOptions, type SafetensorsHeader,
} from './safetensors-read';
