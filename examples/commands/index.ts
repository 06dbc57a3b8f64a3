/** Every `arra` subcommand, in pipeline order. */
import { demoCommand } from './demo';
import { evalCommand } from './eval';
import { experimentCommand } from './experiment';
import { explainCommand } from './explain';
import { featuresCommand } from './features';
import { sampleCommand } from './sample';
import { trainCommand } from './train';
import { trainEncoderCommand } from './train-encoder';
import { trainVqCommand } from './train-vq';

export type { Command } from './command';

export const COMMANDS = {
  'train-vq': trainVqCommand,
  'train-encoder': trainEncoderCommand,
  features: featuresCommand,
  train: trainCommand,
  sample: sampleCommand,
  eval: evalCommand,
  explain: explainCommand,
  demo: demoCommand,
  experiment: experimentCommand,
};
