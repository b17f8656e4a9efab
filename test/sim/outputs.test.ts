import { describe, expect, it } from 'vitest';
import { tableFromIPC } from 'apache-arrow';
import { loadCluster } from '../../src/hardware/cluster.js';
import { ComputeModel } from '../../src/sim/compute/compute-model.js';
import { execute } from '../../src/sim/executor/executor.js';
import { trackRank } from '../../src/sim/memory/tracker.js';
import { timelineToArrow } from '../../src/report/arrow.js';
import { timelineToTrace } from '../../src/report/trace.js';
import { HandGraph } from './helpers/hand-graph.js';
import { a100System, nccl } from './helpers/nccl.js';
import { star } from './helpers/toy-topology.js';

function small() {
  const h = new HandGraph(2).group('tp', [[0, 1]]);
  for (let r = 0; r < 2; r++) {
    const c = h.compute(r, 'layer0.forward', 0.002 * (r + 1), { microBatch: 0 });
    const ar = h.collective(r, 'tp', 'all-reduce', 1e8, 'layer0.all-reduce', { deps: [c] });
    h.mem(r, c, 'start', 'recompute-working-set', 1e9);
    h.mem(r, c, 'end', 'recompute-working-set', -1e9);
    if (r === 0) h.send(0, 1, 5e7, 'act', { deps: [ar], part: 'activation' });
    else h.compute(1, 'layer1.forward', 0.001, { deps: [h.recv(1, -1, 5e7, 'act', { part: 'activation' })] });
  }
  const { graph, computeSeconds } = h.build({ 'fp16-params': 2e9 });
  const machine = { topology: star(2, 100e9), compute: new ComputeModel(loadCluster('supermicro12').gpu), nccl, system: a100System };
  return execute(graph, machine, { computeSeconds });
}

describe('Chrome trace', () => {
  const t = small();
  const json = JSON.parse(Buffer.from(timelineToTrace(t, { memory: [0, 1].map((r) => trackRank(t, r, true).series) })).toString('utf8'));
  const events = json.traceEvents as { ph: string; name: string; pid: number; tid?: number; ts?: number; dur?: number; id?: number; args?: Record<string, unknown> }[];

  it('has a process per GPU and a named thread per stream', () => {
    const procs = events.filter((e) => e.ph === 'M' && e.name === 'process_name');
    expect(procs.map((e) => e.pid)).toEqual([0, 1]);
    expect(String(procs[0]!.args!.name)).toMatch(/^rank 0 \(GPU 0\) pipe 0/);
    const threads = events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === 0).map((e) => e.args!.name);
    expect(threads).toEqual(['compute', 'tp-comm', 'pp-comm', 'dp-comm']);
  });

  it('has one complete slice per task with microsecond times, collectives and sends included', () => {
    const slices = events.filter((e) => e.ph === 'X');
    expect(slices).toHaveLength(t.graph.programs[0]!.size + t.graph.programs[1]!.size);
    for (const s of slices) {
      expect(Number.isFinite(s.ts) && Number.isFinite(s.dur) && s.dur! >= 0).toBe(true);
      expect(typeof s.tid).toBe('number');
    }
    const ar = slices.filter((s) => s.name === 'layer0.all-reduce');
    expect(ar).toHaveLength(2);
    expect(ar[0]!.ts).toBeCloseTo(t.start[0]![1]! * 1e6, 3);
    expect(ar[0]!.args).toMatchObject({ comm: 'tp', op: 'all-reduce', bytes: 1e8 });
    expect(slices.filter((s) => s.name === 'act').map((s) => s.pid)).toEqual([0, 1]);
  });

  it('links each send to its receive with a flow arrow and shows memory as a counter', () => {
    const starts = events.filter((e) => e.ph === 's');
    const ends = events.filter((e) => e.ph === 'f');
    expect(starts).toHaveLength(1);
    expect(ends.map((e) => e.id)).toEqual(starts.map((e) => e.id));
    const mem = events.filter((e) => e.ph === 'C' && e.pid === 0).map((e) => e.args!.GB);
    expect(mem).toEqual([2, 3, 2]);
  });

  it('records the model and step time', () => {
    expect(json.otherData.stepSeconds).toBe(t.stepTime);
    expect(json.displayTimeUnit).toBe('ms');
  });
});

describe('Arrow IPC file', () => {
  it('round-trips a row per task with dictionary-encoded strings', () => {
    const t = small();
    const table = tableFromIPC(timelineToArrow(t));
    const n = t.graph.programs[0]!.size + t.graph.programs[1]!.size;
    expect(table.numRows).toBe(n);
    expect(table.schema.fields.map((f) => f.name)).toEqual(['rank', 'stream', 'kind', 'name', 'phase', 'part', 'micro_batch', 'start', 'end', 'bytes', 'flops']);
    for (const c of ['stream', 'kind', 'name', 'phase', 'part']) expect(String(table.getChild(c)!.type)).toBe('Dictionary<Int32, Utf8>');
    const rows = table.toArray().map((r) => r.toJSON());
    expect(rows[1]).toMatchObject({ rank: 0, stream: 'tp-comm', kind: 'collective', name: 'layer0.all-reduce', bytes: 1e8 });
    expect(rows[1].start).toBe(t.start[0]![1]);
    expect(rows[1].end).toBe(t.end[0]![1]);
    expect(rows.map((r) => r.kind)).toEqual(['compute', 'collective', 'send', 'compute', 'collective', 'recv', 'compute']);
  });
});
