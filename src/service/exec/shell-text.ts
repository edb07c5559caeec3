import { analyseShell } from '../../core/exec/shell.js';
import type { Stage } from './evaluate.js';

/**
 * Shell text (`command`) to stages: every stage of every pipeline of every segment is a program
 * the request runs, checked on its own. Text that cannot be split honestly is `unanalysable`:
 * never allowlisted, only asked (SPEC §9).
 */
export function stagesOfText(text: string): { stages: Stage[]; unanalysable: string | null } {
  const analysis = analyseShell(text);
  if (analysis.kind === 'unanalysable') return { stages: [], unanalysable: analysis.reason };
  const stages = analysis.segments.flatMap((segment, index) =>
    segment.stages.map((argv, stage) => ({ segment: index, stage, argv })),
  );
  return { stages, unanalysable: null };
}
