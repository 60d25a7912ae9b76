import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Report, renderReport } from './html.js';

/** The report's file name in /opt/ml/output/data. */
export const REPORT_FILE = 'report.html';

/** Renders `report` and writes it as `dir/report.html`; returns the file's path. */
export async function writeReport(dir: string, report: Report): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, REPORT_FILE);
  await writeFile(file, renderReport(report));
  return file;
}
