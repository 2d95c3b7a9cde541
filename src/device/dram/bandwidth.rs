//! Bandwidth bounds of a DRAM-PIM device from its timing, for the all-bank streaming pattern
//! of `rtl/dev/pam_dram_pim_ctrl.sv` (row by row: one all-bank ACT, the row's columns read
//! by all-bank RDs `gap` clocks apart, PRE, next ACT; refresh every tREFI).

use super::preset::DramPreset;

/// Bytes per second.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Bounds {
    /// Every bank delivering one column access every `gap` clocks, nothing else.
    pub column_peak: f64,
    /// The same with the pattern's unavoidable row activation, precharge and refresh.
    pub pattern: f64,
    /// Clocks one row takes in the pattern.
    pub row_period: u64,
}

/// The least clocks streaming `rows` whole rows can take when the run contains `refreshes`
/// refreshes: every row its full period, every refresh its tRFC (a refresh due at a row end
/// costs no extra precharge).
pub fn pattern_clocks(preset: &DramPreset, cols: usize, gap: u32, rows: u64, refreshes: u64) -> u64 {
    rows * bounds(preset, cols, gap).row_period + refreshes * preset.timing.rfc as u64
}

/// Bounds for `preset` streaming `cols` columns of every row, RDs `gap` clocks apart.
pub fn bounds(preset: &DramPreset, cols: usize, gap: u32) -> Bounds {
    let t = &preset.timing;
    let tck_s = preset.tck_ps * 1e-12;
    let bytes_per_rd = (preset.banks() * preset.col_bytes()) as f64;
    let column_peak = bytes_per_rd / (gap as f64 * tck_s);
    // ACT at 0, RDs at tRCD + i * gap, PRE once tRAS and tRTP allow, next ACT after tRP and
    // no sooner than the sequencer's ACT spacing (tRC, tRRD_L, tFAW / 4).
    let last_rd = t.rcd as u64 + (cols as u64 - 1) * gap as u64;
    let pre = (t.ras as u64).max(last_rd + t.rtp as u64);
    let act_gap = (t.rc as u64).max(t.rrd_l as u64).max((t.faw as u64).div_ceil(4));
    let row_period = (pre + t.rp as u64).max(act_gap);
    // Refresh, in steady state: tRFC with nothing else, once per tREFI.
    let refresh_share = t.rfc as f64 / t.refi as f64;
    let pattern = bytes_per_rd * cols as f64 / (row_period as f64 * tck_s) * (1.0 - refresh_share);
    Bounds { column_peak, pattern, row_period }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hbm3_column_peak_is_16x_the_external_bandwidth() {
        let b = bounds(&DramPreset::named("hbm3-5.2").unwrap(), 32, 4);
        // Spec §3: about 10.65 TB/s per stack at 4-clock spacing.
        assert!((b.column_peak / 1e12 - 10.65).abs() < 0.01, "{}", b.column_peak);
        assert!(b.pattern < b.column_peak && b.pattern > 0.5 * b.column_peak);
        // 6-clock spacing, the power-constrained figure of the spec: about 7.1 TB/s.
        assert!((bounds(&DramPreset::named("hbm3-5.2").unwrap(), 32, 6).column_peak / 1e12 - 7.1).abs() < 0.01);
    }
}
