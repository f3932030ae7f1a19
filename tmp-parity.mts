import { initBackend } from './core/model/backend';
import { runParityCheck, formatParityRow } from './core/model/parity';
for (const b of ['cpu', 'wasm']) {
  await initBackend({ force: b });
  const t = Date.now();
  const rows = await runParityCheck('/work/shared/fixtures/parity', (r) => console.log(formatParityRow(r)));
  console.log(b, rows.filter(r => r.pass).length, '/', rows.length, Date.now() - t, 'ms');
}
