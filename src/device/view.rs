//! GTKWave views of the Verilated devices' memory-side dumps, generated from the presets.
//!
//! A device's memory-side dump (`pam run ... --waves`: `tier<i>_<preset>_p0000.fst`) names its
//! signals with bit ranges that follow from the device's Verilog parameters, so a view written
//! by hand fits one geometry only. The view is rendered here instead, from the geometry the
//! build Verilates the device with (the preset's entry in `presets/tiers.yaml`, mapped to the
//! parameters as build.rs does: [`device_params`]) and the RTL's own width rules
//! (`rtl/dev/pam_dram_pim_dev.sv`, `pam_dram_pim_ctrl.sv`, `pam_ssd_pim_dev.sv`,
//! `rtl/mem/pam_flash_channel.sv`, `pam_flash_die.sv`), so a new tier preset needs no view of
//! its own. Groups, colours and formats are those of the views once shipped for hbm-s, ddr-s and
//! ssd-s (waveforms/hbm.gtkw, ddr.gtkw, ssd.gtkw), which the tests check are reproduced.
//!
//! `pam run --waves` writes each device's view next to its dump ([`view_path`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::dram::DramPreset;
use super::flash::FlashPreset;
use super::tier::TierPreset;
use crate::error::SimError;

/// The view of a device dump: the dump's path with the extension `.gtkw`.
pub fn view_path(dump: &Path) -> PathBuf {
    dump.with_extension("gtkw")
}

/// The GTKWave view of the memory-side dump `dump` of `preset`'s Verilated device; `dump` is
/// named in the header as given (with the command line that opens it).
pub fn device_view(preset: &TierPreset, dump: &Path) -> Result<String, SimError> {
    if let Some(p) = preset.as_dram() {
        Ok(dram_view(p, dump))
    } else if let Some(p) = preset.as_flash() {
        Ok(flash_view(p, dump))
    } else {
        Err(SimError::Input(format!("preset {}: no device view for its kind", preset.name())))
    }
}

/// Writes the view of `dump` next to it ([`view_path`]) and returns its path.
pub fn write_device_view(preset: &TierPreset, dump: &Path) -> Result<PathBuf, SimError> {
    let path = view_path(dump);
    let text = device_view(preset, dump)?;
    std::fs::write(&path, text).map_err(|e| SimError::Input(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}

/// The RTL module of `preset`'s device top and its parameter overrides, as build.rs sets them.
pub fn device_params(preset: &TierPreset) -> Option<(&'static str, Vec<(&'static str, u64)>)> {
    if let Some(p) = preset.as_dram() {
        Some((DRAM_MODULE, dram_params(p)))
    } else {
        preset.as_flash().map(|p| (FLASH_MODULE, flash_params(p)))
    }
}

const DRAM_MODULE: &str = "pam_dram_pim_dev";
const FLASH_MODULE: &str = "pam_ssd_pim_dev";

fn dram_params(p: &DramPreset) -> Vec<(&'static str, u64)> {
    vec![
        ("NBG", p.bank_groups as u64),
        ("NBANK", p.banks_per_group as u64),
        ("BANKS_PER_PU", p.banks_per_pu as u64),
        ("LANES", p.pu_lanes as u64),
        ("ROWS", p.rows as u64),
        ("COLS", p.cols as u64),
    ]
}

fn flash_params(p: &FlashPreset) -> Vec<(&'static str, u64)> {
    vec![
        ("NCH", p.channels as u64),
        ("DIES", p.dies_per_channel as u64),
        ("NPAGES", p.pages_per_die as u64),
        ("PAGE_BYTES", p.page_bytes as u64),
        ("LANES", p.pu_lanes as u64),
        ("PUS_PER_CH", p.pus_per_channel as u64),
    ]
}

/// `$clog2(n)`: 0 for n <= 1.
fn clog2(n: u64) -> u64 {
    if n <= 1 {
        0
    } else {
        u64::from(64 - (n - 1).leading_zeros())
    }
}

/// The width of an index over `n` values as the RTL declares it: `(N > 1) ? $clog2(N) : 1`.
fn index_w(n: u64) -> u64 {
    clog2(n).max(1)
}

/// Trace formats of a GTKWave save file (the `@` flags).
const BIN: &str = "28";
const DEC: &str = "24";
const HEX: &str = "22";
const GROUP_BEGIN: &str = "800200";
const GROUP_END: &str = "1000200";

/// The marker line after the zoom (`*<zoom> 0 -1 ...`): no primary marker, no named markers.
const NO_MARKERS: &str = " 0 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1";

/// A GTKWave save file under construction: format flags are written when they change.
struct View {
    text: String,
    module: &'static str,
    flags: &'static str,
}

impl View {
    /// The header comment lines (`[*] `), then the window and tree settings.
    fn new(module: &'static str, header: &[String], zoom: &str) -> Self {
        let mut text = String::new();
        for l in header {
            text.push_str("[*] ");
            text.push_str(l);
            text.push('\n');
        }
        text.push_str("[timestart] 0\n[size] 1600 900\n[pos] -1 -1\n");
        let _ = writeln!(text, "*{zoom}{NO_MARKERS}");
        let _ = writeln!(text, "[treeopen] TOP.\n[treeopen] TOP.{module}.");
        text.push_str("[sst_width] 260\n[signals_width] 280\n[sst_expanded] 1\n[sst_vpaned_height] 300\n");
        View { text, module, flags: "" }
    }

    fn flags(&mut self, flags: &'static str) {
        if self.flags != flags {
            let _ = writeln!(self.text, "@{flags}");
            self.flags = flags;
        }
    }

    /// Signal `path` (below the device module) declared `[msb:0]`; a 1-bit signal (`msb` 0) has
    /// no range in its trace name.
    fn sig(&mut self, flags: &'static str, path: &str, msb: i64) {
        self.flags(flags);
        let range = if msb == 0 { String::new() } else { format!("[{msb}:0]") };
        let _ = writeln!(self.text, "TOP.{}.{path}{range}", self.module);
    }

    /// A 1-bit flag.
    fn bit(&mut self, path: &str) {
        self.sig(BIN, path, 0);
    }

    /// A signal of `width` bits (`[width-1:0]`).
    fn bits(&mut self, flags: &'static str, path: &str, width: u64) {
        self.sig(flags, path, width as i64 - 1);
    }

    /// A group of traces under `title` (GTKWave's group begin and end markers).
    fn group(&mut self, title: &str, body: impl FnOnce(&mut Self)) {
        self.flags(GROUP_BEGIN);
        let _ = writeln!(self.text, "-{title}");
        body(self);
        self.flags(GROUP_END);
        let _ = writeln!(self.text, "-{title}");
    }

    fn finish(mut self) -> String {
        self.text.push_str("[pattern_trace] 1\n[pattern_trace] 0\n");
        self.text
    }
}

/// The header lines every device view shares: what it shows, the dump, how to open it.
fn header(name: &str, tier: &str, module: &str, params: &[(&str, u64)], dump: &Path) -> Vec<String> {
    let params: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    vec![
        format!("pam: view of the {name} device's memory side ({tier} tier), generated by pam run --waves"),
        format!("from its entry in presets/tiers.yaml (src/device/view.rs): {module} {}.", params.join(" ")),
        format!("dump: {}. The PUs and RUs are models of their own: their activity here is the", dump.display()),
        "beat streams (one bit per PU); their internals are in the _pu*/_ru* dumps beside this one,".into(),
        "which open with waveforms/pu.gtkw and ru.gtkw (pu4.gtkw and ru4.gtkw for 4 lanes).".into(),
        format!("open with: gtkwave {} {}", dump.display(), view_path(dump).display()),
    ]
}

/// The view of a DRAM-PIM device (`pam_dram_pim_dev`): host operations, bank commands, the
/// sequencer (`u_ctrl`), the timing checker and the PU beat streams.
pub fn dram_view(p: &DramPreset, dump: &Path) -> String {
    let (nbg, nbank, bpp) = (p.bank_groups as u64, p.banks_per_group as u64, p.banks_per_pu as u64);
    // pam_dram_pim_dev / pam_dram_pim_ctrl localparams.
    let npu = nbg * nbank / bpp;
    let bg_w = index_w(nbg);
    let ba_w = index_w(nbank);
    let row_w = clog2(p.rows as u64);
    let col_w = clog2(p.cols as u64);
    const OP_W: u64 = 2; // pam_dram_pim_ctrl
    const CMD_W: u64 = 3; // pam_mem_pkg: dram_cmd_e
    const RULE_W: u64 = 5; // pam_mem_pkg: dram_rule_e
    const STATE_W: u64 = 4; // pam_dram_pim_ctrl: state_e

    let mut h = header(p.name, p.tier, DRAM_MODULE, &dram_params(p), dump);
    h.push("bus_cmd_o: 0 NOP, 1 ACT, 2 RD, 3 WR, 4 PRE, 5 REF. hc_op_i: 0 WRITE, 1 READ, 2 SLOT.".into());
    let mut v = View::new(DRAM_MODULE, &h, "-16.000000");
    v.bit("clk_i");
    v.bit("rst_ni");
    v.group("Host operations (0 WRITE, 1 READ, 2 SLOT)", |v| {
        v.bit("hc_valid_i");
        v.bit("hc_ready_o");
        v.bits(DEC, "hc_op_i", OP_W);
        v.bits(DEC, "hc_bg_i", bg_w);
        v.bits(DEC, "hc_bank_i", ba_w);
        v.bits(DEC, "hc_row_i", row_w);
        v.bits(DEC, "hc_col_i", col_w);
        v.bits(HEX, "hc_mask_i", npu);
        v.bit("hr_valid_o");
    });
    v.group("Bank commands (0 NOP 1 ACT 2 RD 3 WR 4 PRE 5 REF)", |v| {
        v.bit("bus_valid_o");
        v.bits(DEC, "bus_cmd_o", CMD_W);
        v.bit("bus_all_o");
        v.bits(DEC, "bus_bg_o", bg_w);
        v.bits(DEC, "bus_bank_o", ba_w);
        v.bits(DEC, "bus_row_o", row_w);
        v.bits(DEC, "bus_col_o", col_w);
    });
    v.group(
        "Sequencer (state_q: 0 Idle 1 ColOpen 2 ColAct 3 ColCmd 4 SlotOpen 5 SlotAct 6 SlotRd 7 RefPre 8 Ref)",
        |v| {
            v.bits(DEC, "u_ctrl.state_q", STATE_W);
            v.bit("u_ctrl.lock_open_q");
            v.bits(DEC, "u_ctrl.lock_row_q", row_w);
            v.bits(DEC, "u_ctrl.left_q", col_w + 1); // [COL_W:0]
            v.bit("u_ctrl.ref_due");
        },
    );
    v.group("Timing checker", |v| {
        v.bit("viol_o");
        v.bits(DEC, "viol_kind_o", RULE_W);
        v.bits(DEC, "viol_count_o", 16);
        v.bit("err_o");
    });
    v.group("PU activity (a beat to PU p sets bit p)", |v| {
        v.bits(HEX, "beat_valid_o", npu);
        v.bit("pu_ready_i");
    });
    v.finish()
}

/// The view of an SSD-PIM device (`pam_ssd_pim_dev`): host operations, flash events, each
/// channel's sequencer and its dies' page registers, the timing checker and the PU beat streams.
/// A 1-bit field shows as a flag (binary), as waveforms/ssd.gtkw showed `hc_die_i`.
pub fn flash_view(p: &FlashPreset, dump: &Path) -> String {
    let (nch, dies, pus_per_ch) = (p.channels as u64, p.dies_per_channel as u64, p.pus_per_channel as u64);
    // pam_ssd_pim_dev / pam_flash_channel / pam_flash_die localparams.
    let width = p.pu_lanes as u64 * 16;
    let npu = nch * pus_per_ch;
    let beats = p.page_bytes as u64 * 8 / width;
    let ch_w = index_w(nch);
    let die_w = index_w(dies);
    let page_w = index_w(p.pages_per_die as u64);
    let beat_w = index_w(beats);
    let pu_w = index_w(pus_per_ch);
    const OP_W: u64 = 3; // pam_ssd_pim_dev, pam_flash_channel
    const STATE_W: u64 = 2; // pam_flash_channel: state_e
    const KIND_W: u64 = 2; // viol_kind_o
    let field = |v: &mut View, flags: &'static str, path: &str, w: u64| {
        v.bits(if w == 1 { BIN } else { flags }, path, w);
    };

    let mut h = header(p.name, p.tier, FLASH_MODULE, &flash_params(p), dump);
    h.push("hc_op_i: 0 WRITE_BEAT, 1 READ_BEAT, 2 READ_PAGE, 3 PROGRAM, 4 STREAM.".into());
    let mut v = View::new(FLASH_MODULE, &h, "-20.000000");
    v.bit("clk_i");
    v.bit("rst_ni");
    v.group("Host operations (0 WRITE_BEAT 1 READ_BEAT 2 READ_PAGE 3 PROGRAM 4 STREAM)", |v| {
        v.bit("hc_valid_i");
        v.bit("hc_ready_o");
        v.bits(DEC, "hc_op_i", OP_W);
        field(v, DEC, "hc_ch_i", ch_w);
        field(v, DEC, "hc_die_i", die_w);
        field(v, DEC, "hc_page_i", page_w);
        field(v, DEC, "hc_beat_i", beat_w);
        field(v, DEC, "hc_count_i", beat_w + 1); // [BEAT_W:0]
        field(v, DEC, "hc_pu_i", pu_w);
        field(v, HEX, "ch_room_o", nch);
    });
    v.group("Flash events (one bit per channel)", |v| {
        field(v, HEX, "mon_read_o", nch);
        field(v, HEX, "mon_prog_o", nch);
        field(v, HEX, "mon_xfer_o", nch);
        field(v, HEX, "mon_die_o", nch * die_w);
        v.bit("idle_o");
    });
    for c in 0..nch {
        v.group(&format!("Channel {c}"), |v| {
            let ch = format!("g_ch[{c}].u_channel");
            field(v, DEC, &format!("{ch}.state_q"), STATE_W);
            field(v, DEC, &format!("{ch}.die_busy"), dies);
            for d in 0..dies {
                field(v, DEC, &format!("{ch}.g_die[{d}].u_die.reg_page_q"), page_w);
            }
        });
    }
    v.group("Timing checker (kind bit 0: tR/tPROG not over, bit 1: bus slot)", |v| {
        v.bit("viol_o");
        v.bits(HEX, "viol_kind_o", KIND_W);
        v.bits(DEC, "viol_count_o", 16);
        v.bit("err_o");
    });
    v.group("PU activity (a beat to PU p sets bit p)", |v| {
        field(v, HEX, "beat_valid_o", npu);
        v.bit("pu_ready_i");
    });
    v.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preset(name: &str) -> TierPreset {
        TierPreset::by_name(name).unwrap_or_else(|| panic!("no preset {name}"))
    }

    /// The view without its header comment (the lines that name the dump).
    fn body(view: &str) -> String {
        view.lines().filter(|l| !l.starts_with("[*]")).map(|l| format!("{l}\n")).collect()
    }

    /// waveforms/hbm.gtkw as shipped before the views were generated, without its header comment.
    const SHIPPED_HBM: &str = r#"[timestart] 0
[size] 1600 900
[pos] -1 -1
*-16.000000 0 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1
[treeopen] TOP.
[treeopen] TOP.pam_dram_pim_dev.
[sst_width] 260
[signals_width] 280
[sst_expanded] 1
[sst_vpaned_height] 300
@28
TOP.pam_dram_pim_dev.clk_i
TOP.pam_dram_pim_dev.rst_ni
@800200
-Host operations (0 WRITE, 1 READ, 2 SLOT)
@28
TOP.pam_dram_pim_dev.hc_valid_i
TOP.pam_dram_pim_dev.hc_ready_o
@24
TOP.pam_dram_pim_dev.hc_op_i[1:0]
TOP.pam_dram_pim_dev.hc_bg_i[2:0]
TOP.pam_dram_pim_dev.hc_bank_i[1:0]
TOP.pam_dram_pim_dev.hc_row_i[6:0]
TOP.pam_dram_pim_dev.hc_col_i[4:0]
@22
TOP.pam_dram_pim_dev.hc_mask_i[15:0]
@28
TOP.pam_dram_pim_dev.hr_valid_o
@1000200
-Host operations (0 WRITE, 1 READ, 2 SLOT)
@800200
-Bank commands (0 NOP 1 ACT 2 RD 3 WR 4 PRE 5 REF)
@28
TOP.pam_dram_pim_dev.bus_valid_o
@24
TOP.pam_dram_pim_dev.bus_cmd_o[2:0]
@28
TOP.pam_dram_pim_dev.bus_all_o
@24
TOP.pam_dram_pim_dev.bus_bg_o[2:0]
TOP.pam_dram_pim_dev.bus_bank_o[1:0]
TOP.pam_dram_pim_dev.bus_row_o[6:0]
TOP.pam_dram_pim_dev.bus_col_o[4:0]
@1000200
-Bank commands (0 NOP 1 ACT 2 RD 3 WR 4 PRE 5 REF)
@800200
-Sequencer (state_q: 0 Idle 1 ColOpen 2 ColAct 3 ColCmd 4 SlotOpen 5 SlotAct 6 SlotRd 7 RefPre 8 Ref)
@24
TOP.pam_dram_pim_dev.u_ctrl.state_q[3:0]
@28
TOP.pam_dram_pim_dev.u_ctrl.lock_open_q
@24
TOP.pam_dram_pim_dev.u_ctrl.lock_row_q[6:0]
TOP.pam_dram_pim_dev.u_ctrl.left_q[5:0]
@28
TOP.pam_dram_pim_dev.u_ctrl.ref_due
@1000200
-Sequencer (state_q: 0 Idle 1 ColOpen 2 ColAct 3 ColCmd 4 SlotOpen 5 SlotAct 6 SlotRd 7 RefPre 8 Ref)
@800200
-Timing checker
@28
TOP.pam_dram_pim_dev.viol_o
@24
TOP.pam_dram_pim_dev.viol_kind_o[4:0]
TOP.pam_dram_pim_dev.viol_count_o[15:0]
@28
TOP.pam_dram_pim_dev.err_o
@1000200
-Timing checker
@800200
-PU activity (a beat to PU p sets bit p)
@22
TOP.pam_dram_pim_dev.beat_valid_o[15:0]
@28
TOP.pam_dram_pim_dev.pu_ready_i
@1000200
-PU activity (a beat to PU p sets bit p)
[pattern_trace] 1
[pattern_trace] 0
"#;

    /// waveforms/ddr.gtkw as shipped before the views were generated, without its header comment.
    const SHIPPED_DDR: &str = r#"[timestart] 0
[size] 1600 900
[pos] -1 -1
*-16.000000 0 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1
[treeopen] TOP.
[treeopen] TOP.pam_dram_pim_dev.
[sst_width] 260
[signals_width] 280
[sst_expanded] 1
[sst_vpaned_height] 300
@28
TOP.pam_dram_pim_dev.clk_i
TOP.pam_dram_pim_dev.rst_ni
@800200
-Host operations (0 WRITE, 1 READ, 2 SLOT)
@28
TOP.pam_dram_pim_dev.hc_valid_i
TOP.pam_dram_pim_dev.hc_ready_o
@24
TOP.pam_dram_pim_dev.hc_op_i[1:0]
TOP.pam_dram_pim_dev.hc_bg_i
TOP.pam_dram_pim_dev.hc_bank_i[1:0]
TOP.pam_dram_pim_dev.hc_row_i[5:0]
TOP.pam_dram_pim_dev.hc_col_i[6:0]
@22
TOP.pam_dram_pim_dev.hc_mask_i[7:0]
@28
TOP.pam_dram_pim_dev.hr_valid_o
@1000200
-Host operations (0 WRITE, 1 READ, 2 SLOT)
@800200
-Bank commands (0 NOP 1 ACT 2 RD 3 WR 4 PRE 5 REF)
@28
TOP.pam_dram_pim_dev.bus_valid_o
@24
TOP.pam_dram_pim_dev.bus_cmd_o[2:0]
@28
TOP.pam_dram_pim_dev.bus_all_o
@24
TOP.pam_dram_pim_dev.bus_bg_o
TOP.pam_dram_pim_dev.bus_bank_o[1:0]
TOP.pam_dram_pim_dev.bus_row_o[5:0]
TOP.pam_dram_pim_dev.bus_col_o[6:0]
@1000200
-Bank commands (0 NOP 1 ACT 2 RD 3 WR 4 PRE 5 REF)
@800200
-Sequencer (state_q: 0 Idle 1 ColOpen 2 ColAct 3 ColCmd 4 SlotOpen 5 SlotAct 6 SlotRd 7 RefPre 8 Ref)
@24
TOP.pam_dram_pim_dev.u_ctrl.state_q[3:0]
@28
TOP.pam_dram_pim_dev.u_ctrl.lock_open_q
@24
TOP.pam_dram_pim_dev.u_ctrl.lock_row_q[5:0]
TOP.pam_dram_pim_dev.u_ctrl.left_q[7:0]
@28
TOP.pam_dram_pim_dev.u_ctrl.ref_due
@1000200
-Sequencer (state_q: 0 Idle 1 ColOpen 2 ColAct 3 ColCmd 4 SlotOpen 5 SlotAct 6 SlotRd 7 RefPre 8 Ref)
@800200
-Timing checker
@28
TOP.pam_dram_pim_dev.viol_o
@24
TOP.pam_dram_pim_dev.viol_kind_o[4:0]
TOP.pam_dram_pim_dev.viol_count_o[15:0]
@28
TOP.pam_dram_pim_dev.err_o
@1000200
-Timing checker
@800200
-PU activity (a beat to PU p sets bit p)
@22
TOP.pam_dram_pim_dev.beat_valid_o[7:0]
@28
TOP.pam_dram_pim_dev.pu_ready_i
@1000200
-PU activity (a beat to PU p sets bit p)
[pattern_trace] 1
[pattern_trace] 0
"#;

    /// waveforms/ssd.gtkw as shipped before the views were generated, without its header comment.
    const SHIPPED_SSD: &str = r#"[timestart] 0
[size] 1600 900
[pos] -1 -1
*-20.000000 0 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1
[treeopen] TOP.
[treeopen] TOP.pam_ssd_pim_dev.
[sst_width] 260
[signals_width] 280
[sst_expanded] 1
[sst_vpaned_height] 300
@28
TOP.pam_ssd_pim_dev.clk_i
TOP.pam_ssd_pim_dev.rst_ni
@800200
-Host operations (0 WRITE_BEAT 1 READ_BEAT 2 READ_PAGE 3 PROGRAM 4 STREAM)
@28
TOP.pam_ssd_pim_dev.hc_valid_i
TOP.pam_ssd_pim_dev.hc_ready_o
@24
TOP.pam_ssd_pim_dev.hc_op_i[2:0]
TOP.pam_ssd_pim_dev.hc_ch_i[1:0]
@28
TOP.pam_ssd_pim_dev.hc_die_i
@24
TOP.pam_ssd_pim_dev.hc_page_i[5:0]
TOP.pam_ssd_pim_dev.hc_beat_i[8:0]
TOP.pam_ssd_pim_dev.hc_count_i[9:0]
TOP.pam_ssd_pim_dev.hc_pu_i[1:0]
@22
TOP.pam_ssd_pim_dev.ch_room_o[3:0]
@1000200
-Host operations (0 WRITE_BEAT 1 READ_BEAT 2 READ_PAGE 3 PROGRAM 4 STREAM)
@800200
-Flash events (one bit per channel)
@22
TOP.pam_ssd_pim_dev.mon_read_o[3:0]
TOP.pam_ssd_pim_dev.mon_prog_o[3:0]
TOP.pam_ssd_pim_dev.mon_xfer_o[3:0]
TOP.pam_ssd_pim_dev.mon_die_o[3:0]
@28
TOP.pam_ssd_pim_dev.idle_o
@1000200
-Flash events (one bit per channel)
@800200
-Channel 0
@24
TOP.pam_ssd_pim_dev.g_ch[0].u_channel.state_q[1:0]
TOP.pam_ssd_pim_dev.g_ch[0].u_channel.die_busy[1:0]
TOP.pam_ssd_pim_dev.g_ch[0].u_channel.g_die[0].u_die.reg_page_q[5:0]
TOP.pam_ssd_pim_dev.g_ch[0].u_channel.g_die[1].u_die.reg_page_q[5:0]
@1000200
-Channel 0
@800200
-Channel 1
@24
TOP.pam_ssd_pim_dev.g_ch[1].u_channel.state_q[1:0]
TOP.pam_ssd_pim_dev.g_ch[1].u_channel.die_busy[1:0]
TOP.pam_ssd_pim_dev.g_ch[1].u_channel.g_die[0].u_die.reg_page_q[5:0]
TOP.pam_ssd_pim_dev.g_ch[1].u_channel.g_die[1].u_die.reg_page_q[5:0]
@1000200
-Channel 1
@800200
-Channel 2
@24
TOP.pam_ssd_pim_dev.g_ch[2].u_channel.state_q[1:0]
TOP.pam_ssd_pim_dev.g_ch[2].u_channel.die_busy[1:0]
TOP.pam_ssd_pim_dev.g_ch[2].u_channel.g_die[0].u_die.reg_page_q[5:0]
TOP.pam_ssd_pim_dev.g_ch[2].u_channel.g_die[1].u_die.reg_page_q[5:0]
@1000200
-Channel 2
@800200
-Channel 3
@24
TOP.pam_ssd_pim_dev.g_ch[3].u_channel.state_q[1:0]
TOP.pam_ssd_pim_dev.g_ch[3].u_channel.die_busy[1:0]
TOP.pam_ssd_pim_dev.g_ch[3].u_channel.g_die[0].u_die.reg_page_q[5:0]
TOP.pam_ssd_pim_dev.g_ch[3].u_channel.g_die[1].u_die.reg_page_q[5:0]
@1000200
-Channel 3
@800200
-Timing checker (kind bit 0: tR/tPROG not over, bit 1: bus slot)
@28
TOP.pam_ssd_pim_dev.viol_o
@22
TOP.pam_ssd_pim_dev.viol_kind_o[1:0]
@24
TOP.pam_ssd_pim_dev.viol_count_o[15:0]
@28
TOP.pam_ssd_pim_dev.err_o
@1000200
-Timing checker (kind bit 0: tR/tPROG not over, bit 1: bus slot)
@800200
-PU activity (a beat to PU p sets bit p)
@22
TOP.pam_ssd_pim_dev.beat_valid_o[15:0]
@28
TOP.pam_ssd_pim_dev.pu_ready_i
@1000200
-PU activity (a beat to PU p sets bit p)
[pattern_trace] 1
[pattern_trace] 0
"#;

    #[test]
    fn view_of_the_scaled_presets_is_the_shipped_one() {
        for (name, shipped) in [("hbm-s", SHIPPED_HBM), ("ddr-s", SHIPPED_DDR), ("ssd-s", SHIPPED_SSD)] {
            let dump = Path::new("OUT/tier0_x_p0000.fst");
            let got = device_view(&preset(name), dump).unwrap();
            assert_eq!(body(&got), shipped, "{name}");
            let header: Vec<&str> = got.lines().take_while(|l| l.starts_with("[*] ")).collect();
            assert!(header.iter().any(|l| l.contains("dump: OUT/tier0_x_p0000.fst")), "{name}: {header:?}");
            assert!(
                header.contains(&"[*] open with: gtkwave OUT/tier0_x_p0000.fst OUT/tier0_x_p0000.gtkw"),
                "{name}: {header:?}"
            );
        }
    }

    #[test]
    fn view_geometry_is_the_verilated_tops() {
        for p in TierPreset::verilated() {
            let top = crate::rtl::model::Top::named(&crate::device::tier::device_top(p.name())).unwrap();
            let (module, params) = device_params(p).unwrap();
            assert_eq!((module, params.as_slice()), (top.module, top.params), "{}", p.name());
            let view = device_view(p, Path::new("x.fst")).unwrap();
            assert!(view.contains(&format!("[treeopen] TOP.{module}.\n")), "{}", p.name());
        }
    }

    #[test]
    fn view_follows_the_geometry() {
        // LPDDR5-like: 4 bank groups x 4 banks, a PU per bank pair, 64 rows of 64 columns.
        let mut d = preset("hbm-s").as_dram().unwrap().clone();
        (d.bank_groups, d.banks_per_group, d.banks_per_pu, d.rows, d.cols) = (4, 4, 2, 64, 64);
        let v = dram_view(&d, Path::new("x.fst"));
        for l in ["hc_bg_i[1:0]", "hc_bank_i[1:0]", "hc_row_i[5:0]", "hc_col_i[5:0]", "hc_mask_i[7:0]"] {
            assert!(v.contains(&format!("\nTOP.pam_dram_pim_dev.{l}\n")), "{l}");
        }
        for l in ["u_ctrl.lock_row_q[5:0]", "u_ctrl.left_q[6:0]", "beat_valid_o[7:0]", "bus_bg_o[1:0]"] {
            assert!(v.contains(&format!("\nTOP.pam_dram_pim_dev.{l}\n")), "{l}");
        }
        // One bank group, one bank: 1-bit indices have no range.
        (d.bank_groups, d.banks_per_group, d.banks_per_pu) = (1, 1, 1);
        let v = dram_view(&d, Path::new("x.fst"));
        assert!(v.contains("\nTOP.pam_dram_pim_dev.hc_bg_i\nTOP.pam_dram_pim_dev.hc_bank_i\n"), "{v}");
        // One channel of one die, 2 PUs: one channel group, 1-bit fields as flags.
        let mut f = preset("ssd-s").as_flash().unwrap().clone();
        (f.channels, f.dies_per_channel, f.pus_per_channel, f.pages_per_die) = (1, 1, 2, 300);
        let v = flash_view(&f, Path::new("x.fst"));
        assert!(v.contains("\n@28\nTOP.pam_ssd_pim_dev.hc_ch_i\nTOP.pam_ssd_pim_dev.hc_die_i\n@24\n"), "{v}");
        assert!(v.contains("\nTOP.pam_ssd_pim_dev.hc_page_i[8:0]\n"), "{v}");
        assert!(v.contains("\n@28\nTOP.pam_ssd_pim_dev.hc_pu_i\nTOP.pam_ssd_pim_dev.ch_room_o\n"), "{v}");
        assert!(v.contains("g_ch[0].u_channel.g_die[0].u_die.reg_page_q[8:0]") && !v.contains("g_ch[1]"), "{v}");
        assert!(v.contains("\nTOP.pam_ssd_pim_dev.g_ch[0].u_channel.die_busy\n"), "{v}");
        assert!(v.contains("\n@22\nTOP.pam_ssd_pim_dev.beat_valid_o[1:0]\n"), "{v}");
        assert_eq!(v.matches("\n@800200\n").count(), v.matches("\n@1000200\n").count());
    }
}
