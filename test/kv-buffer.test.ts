/**
 * models/kv-buffer.ts: the KV cache's in-place storage. After every append its views hold
 * exactly the concatenated keys (transposed) and values, and the attention products read
 * from them are the bits of the same products on concatenated tensors — on `fast` (strided
 * operands read in place) and `ref` (copied).
 */
import t from 'tap';
import { concat, matmul, noGrad, Rng, setBackend, Tensor } from '../lib';
import { KVBuffer } from '../models/kv-buffer';

const [B, H, hd] = [3, 2, 5];
const bits = (x: Tensor): Uint32Array => new Uint32Array(Float32Array.from(x.values()).buffer);

for (const backendName of ['fast', 'ref']) {
  t.test(`${backendName}: views equal concatenation, products the same bits`, async (t) => {
    setBackend(backendName);
    const rng = new Rng(2);
    const keys = new KVBuffer(B, H, hd, 'columns', 'float32');
    const values = new KVBuffer(B, H, hd, 'rows', 'float32');
    let kAll: Tensor | null = null;
    let vAll: Tensor | null = null;
    noGrad(() => {
      for (const T of [2, 1, 1, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1]) {
        // new positions as permuted views, like attention's [B, T, H, hd] → [B, H, T, hd]
        const k = new Tensor(Float32Array.from({ length: B * T * H * hd }, () => rng.normal()), [B, T, H, hd]).permute([0, 2, 1, 3]);
        const v = new Tensor(Float32Array.from({ length: B * T * H * hd }, () => rng.normal()), [B, T, H, hd]).permute([0, 2, 1, 3]);
        kAll = kAll ? concat([kAll, k], 2) : k;
        vAll = vAll ? concat([vAll, v], 2) : v;
        const kT = keys.append(k);
        const vs = values.append(v);
        const S = keys.length;
        t.same(kT.shape, [B, H, hd, S]);
        t.same(bits(kT), bits(kAll.transpose(-2, -1)), `S=${S}: kᵀ view`);
        t.same(bits(vs), bits(vAll), `S=${S}: v view`);
        const q = new Tensor(Float32Array.from({ length: B * H * hd }, () => rng.normal()), [B, H, 1, hd]);
        const w = new Tensor(Float32Array.from({ length: B * H * S }, () => rng.uniform()), [B, H, 1, S]);
        t.same(bits(matmul(q, kT)), bits(matmul(q, kAll.transpose(-2, -1))), `S=${S}: q·kᵀ bits`);
        t.same(bits(matmul(w, vs)), bits(matmul(w, vAll)), `S=${S}: A·v bits`);
      }
    });
  });
}

t.test('the cache is for sampling: appending with gradients on is an error', async (t) => {
  const keys = new KVBuffer(1, 1, 2, 'columns', 'float32');
  t.throws(() => keys.append(new Tensor(new Float32Array(2), [1, 1, 1, 2])), /noGrad/);
  t.throws(() => noGrad(() => keys.append(new Tensor(new Float32Array(3), [1, 1, 1, 3]))), /expected \[1, 1, T, 2\]/);
});
