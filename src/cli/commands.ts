/** The CLI's command table. Each command lives in its own module under ./commands and is loaded on use. */
export interface CommandModule {
  /** Returns the exit code. Throws InputError for bad input (exit 2). */
  run(argv: string[]): Promise<number>;
}

export interface Command {
  name: string;
  summary: string;
  load(): Promise<CommandModule>;
}

export const commands: Command[] = [
  { name: 'profiles', summary: 'validate hardware profiles (schema, units, sources, references)', load: () => import('./commands/profiles.js') },
  { name: 'model', summary: 'exact NeoX model accounting: parameters, per-layer ops with FLOPs and bytes, gpt-neox YAML import/export', load: () => import('./commands/model.js') },
  { name: 'collective', summary: 'nccl-tests-like sweep of one NCCL collective on a simulated cluster (time, algbw, busbw, algorithm, bottleneck)', load: () => import('./commands/collective.js') },
  { name: 'cluster', summary: 'show a cluster: devices, links, injection/bisection bandwidth, oversubscription', load: () => import('./commands/cluster.js') },
  { name: 'simulate', summary: 'simulate one training step on every GPU (breakdown, exposed communication, memory) and project the whole run', load: () => import('./commands/simulate.js') },
  { name: 'validate', summary: 'simulate published training runs (Megatron-LM SC\'21, GPT-NeoX-20B) and report the prediction error', load: () => import('./commands/validate.js') },
  { name: 'plan', summary: 'search every parallel plan (TP, PP, DP, micro-batch, ZeRO, recompute, schedule, rank order), rank the ones that fit, export the best as a gpt-neox config, HTML capacity report', load: () => import('./commands/plan.js') },
  { name: 'data', summary: 'tokenize text into Megatron\'s .bin/.idx indexed dataset (the GPT-NeoX-20B tokenizer or bytes), as gpt-neox\'s preprocess_data.py', load: () => import('./commands/data.js') },
  { name: 'train', summary: 'train a NeoX preset with the numerically exact reference trainer (fp64, fp32, fp16 mixed)', load: () => import('./commands/train.js') },
];
