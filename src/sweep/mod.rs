//! Evaluations beyond one run (SERVING-SPEC §13): a sweep file expands a base serving scenario
//! over axes into points, each served into its own directory; points run locally in parallel or
//! as a Slurm job array, and merge into one table.

pub mod report;
pub mod table;
