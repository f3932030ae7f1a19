/**
 * Skip and review flags per (task, case). The workspace schema has no place for them yet, so they
 * live for the session only (see docs/ui.md); the contract does not change when the store keeps them.
 */
export interface ReviewMark {
  flagged: boolean;
  skipped: boolean;
  note?: string;
}

export class ReviewMarks {
  private readonly marks = new Map<string, ReviewMark>();

  get(taskId: number, caseId: number): ReviewMark {
    return this.marks.get(`${taskId}:${caseId}`) ?? { flagged: false, skipped: false };
  }

  update(taskId: number, caseId: number, change: Partial<ReviewMark>): ReviewMark {
    const next = { ...this.get(taskId, caseId), ...change };
    this.marks.set(`${taskId}:${caseId}`, next);
    return next;
  }

  clear(): void {
    this.marks.clear();
  }
}
