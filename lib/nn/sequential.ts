/**
 * Sequential: run modules one after another, each output feeding the next.
 * Its layers are named `0`, `1`, … in parameter names (`0.weight`), as in PyTorch.
 */
import type { Tensor } from '../tensor';
import { Module } from './module';

/** A module that maps one tensor to one tensor: what Sequential can chain. */
export type TensorModule = Module & { forward(x: Tensor): Tensor };

export class Sequential extends Module {
  readonly layers: TensorModule[];

  constructor(...layers: TensorModule[]) {
    super();
    this.layers = layers;
  }

  protected override children(): [string, unknown][] {
    return this.layers.map((m, i) => [String(i), m]);
  }

  forward(x: Tensor): Tensor {
    let h = x;
    for (const layer of this.layers) h = layer.forward(h);
    return h;
  }
}
