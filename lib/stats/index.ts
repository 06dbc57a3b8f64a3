/** Statistics for comparing runs over seeds: summaries, Student's t, paired intervals, the bootstrap. */
export * from './descriptive';
export * from './student-t';
export * from './paired';
export * from './power';
