/** The benchmark's reference model is defined in models/ (the library never imports bench/); re-exported for bench/. */
export { REFERENCE_TINY } from '../models/reference-config';
