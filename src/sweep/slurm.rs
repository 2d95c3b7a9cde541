//! `pam sweep --slurm`: the sweep as an `sbatch` job array, one task per shard. Each task runs
//! `pam sweep SWEEP --shard I/N` into the same output directory (so a shared file system is
//! assumed, as on any cluster), and `pam sweep collect` merges them as it would a local run.
//! The tiers are calibrated before the script is written, so tasks only read the cache.

use std::path::{Path, PathBuf};

use super::spec::Sweep;
use super::SweepError;

/// Absolute form of `p` (against the current directory), without requiring it to exist.
fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Single-quotes `s` for the shell.
fn quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}

/// The array script for `sweep` writing into `out`, run by the `pam` at `exe` with the
/// calibration cache `cache`; returns its path and the number of tasks.
pub fn write_script(sweep: &Sweep, out: &Path, cache: &Path, exe: &Path) -> Result<(PathBuf, usize), SweepError> {
    let req = &sweep.slurm;
    let tasks = sweep.points.len().min(req.max_tasks.unwrap_or(usize::MAX)).max(1);
    let dir = absolute(out).join("slurm");
    std::fs::create_dir_all(&dir).map_err(|err| SweepError::Io { path: dir.clone(), err })?;
    let mut s = String::from("#!/bin/bash\n");
    s += &format!(
        "# pam sweep {} as a Slurm job array: {} points over {tasks} tasks.\n",
        sweep.name,
        sweep.points.len()
    );
    s += "# Written by `pam sweep --slurm`; submit with sbatch, then `pam sweep collect` the output directory.\n";
    s += &format!("#SBATCH --job-name=pam-{}\n", sweep.name);
    s += &format!("#SBATCH --array=0-{}\n", tasks - 1);
    s += "#SBATCH --ntasks=1\n";
    s += &format!("#SBATCH --cpus-per-task={}\n", req.cpus);
    s += &format!("#SBATCH --mem={}G\n", req.mem_gb);
    s += &format!("#SBATCH --time={}\n", req.time_min);
    if let Some(p) = &req.partition {
        s += &format!("#SBATCH --partition={p}\n");
    }
    s += &format!("#SBATCH --output={}\n", dir.join("%A_%a.out").display());
    s += "set -euo pipefail\n";
    s += &format!(
        "exec {} sweep {} --out {} --cache {} --shard \"$SLURM_ARRAY_TASK_ID/{tasks}\"\n",
        quote(&absolute(exe)),
        quote(&absolute(&sweep.file)),
        quote(&absolute(out)),
        quote(&absolute(cache)),
    );
    let path = dir.join("sweep.sbatch");
    std::fs::write(&path, s).map_err(|err| SweepError::Io { path: path.clone(), err })?;
    Ok((path, tasks))
}

/// Submits `script` with `sbatch --parsable`; returns the job id (also written beside it).
pub fn submit(script: &Path) -> Result<String, SweepError> {
    let out = std::process::Command::new("sbatch")
        .arg("--parsable")
        .arg(script)
        .output()
        .map_err(|e| SweepError::Other(format!("sbatch: {e} (is Slurm's client installed and on PATH?)")))?;
    if !out.status.success() {
        return Err(SweepError::Other(format!(
            "sbatch {} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let id = text.trim().split(';').next().unwrap_or_default().to_string();
    let path = script.with_file_name("job_id");
    std::fs::write(&path, format!("{id}\n")).map_err(|err| SweepError::Io { path, err })?;
    Ok(id)
}
