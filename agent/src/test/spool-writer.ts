/** Test driver: writes batches to a spool as fast as it can, printing each seq once it is durable. */
import { buildBatch, encodeBatch } from '../batch.ts';
import { Spool } from '../spool/spool.ts';

const dir = process.argv[2];
if (!dir) throw new Error('usage: spool-writer.ts <dir>');
const spool = await Spool.open(dir);
for (let seq = spool.maxSeq() + 1; seq < 1_000_000; seq++) {
  const batch = buildBatch('h_test', seq, Date.now(), {
    samples: [{ ts: Date.now(), load: { 1: seq, 5: 0, 15: 0 } }],
    metrics: [],
    events: [],
  });
  await spool.write(seq, batch.batch_id, await encodeBatch(batch));
  process.stdout.write(`${seq}\n`);
}
