/**
 * Preloaded into a benchmarked process (`node --import`): on exit it writes the
 * process's peak resident set size (KiB) to the file named by BENCH_RSS_FILE.
 */
import fs from 'node:fs';

const target = process.env.BENCH_RSS_FILE;
if (target) process.on('exit', () => fs.writeFileSync(target, String(process.resourceUsage().maxRSS)));
