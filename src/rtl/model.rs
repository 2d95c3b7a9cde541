//! A safe handle on one Verilated model instance.
//!
//! Each instance owns its own `VerilatedContext`, so any number of models (of any tops) live
//! in one process and can run on different threads. Ports are looked up by name once
//! ([`VModel::port`]) and then read and written through the pointers Verilator exposes, so the
//! per-cycle cost is the model's `eval` and nothing else.

use std::ffi::{c_void, CStr, CString};
use std::path::Path;
use std::ptr::NonNull;

use super::ffi;
use super::xrand::{self, XInit};
use crate::error::SimError;

/// A Verilated top linked into this binary. build.rs makes the list: the PUs and RUs of each
/// width (`pu16`, `ru4`, ...), the test tops (`fp_lab`, `dram_lab`, `unreset_probe`), one device per Verilated tier
/// preset (`dev_<preset>`, from `presets/tiers.yaml`) and the migration interface for each pair
/// of beat widths (`mig_<source bytes>_<target bytes>`).
#[derive(Clone, Copy, Debug)]
pub struct Top {
    pub name: &'static str,
    /// The RTL module.
    pub module: &'static str,
    /// Its parameter overrides.
    pub params: &'static [(&'static str, u64)],
    getter: unsafe extern "C" fn() -> *const ffi::pam_vmodel_vtable,
}

include!(concat!(env!("OUT_DIR"), "/tops.rs"));

impl Top {
    /// Every top built.
    pub fn all() -> impl Iterator<Item = Top> {
        TOPS.iter().copied()
    }

    /// The top called `name`; an error lists the tops built.
    pub fn named(name: &str) -> Result<Top, SimError> {
        Self::all().find(|t| t.name == name).ok_or_else(|| {
            SimError::Input(format!(
                "no Verilated top '{name}' in this build (built: {})",
                Self::all().map(|t| t.name).collect::<Vec<_>>().join(", ")
            ))
        })
    }

    fn vtable(self) -> &'static ffi::pam_vmodel_vtable {
        // SAFETY: the generated getters return pointers to static tables that live as long as
        // the program.
        unsafe { &*(self.getter)() }
    }
}

/// Declares a struct of [`PortId`]s named like the RTL ports, with a `lookup` that finds each
/// one by its name in a model (an error names the missing port).
macro_rules! port_set {
    ($(#[$meta:meta])* $name:ident { $($port:ident),* $(,)? }) => {
        $(#[$meta])*
        struct $name {
            $($port: $crate::rtl::model::PortId),*
        }

        impl $name {
            fn lookup(m: &$crate::rtl::model::VModel) -> Result<Self, $crate::error::SimError> {
                Ok($name { $($port: m.port(stringify!($port))?),* })
            }
        }
    };
}
pub(crate) use port_set;

/// Index of a port in its model's port table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortId(usize);

#[derive(Clone, Copy, Debug)]
struct PortSlot {
    ptr: *mut c_void,
    width: u32,
}

/// One Verilated model instance with a clock it drives itself.
pub struct VModel {
    top: Top,
    vt: &'static ffi::pam_vmodel_vtable,
    handle: NonNull<c_void>,
    names: Vec<String>,
    slots: Vec<PortSlot>,
    clk: PortId,
    /// Simulated time of the dump, in picoseconds.
    time_ps: u64,
    half_period_ps: u64,
    tracing: bool,
    cycles: u64,
}

// SAFETY: the model is only ever touched through `&mut self` (or `&self` for reads), its
// VerilatedContext is private to it, and no pointer into it escapes this type.
unsafe impl Send for VModel {}

impl VModel {
    /// Creates an instance of `top` clocked by its `clk_i` port at `clock_mhz`, its variables
    /// starting as the thread's X-randomisation scope says ([`xrand::with_reset_seed`]; zeros
    /// outside one), dumping waveforms inside a [`super::waves::with_waves`] scope.
    pub fn new(top: Top, clock_mhz: f64) -> Result<Self, SimError> {
        Self::with_x_init(top, clock_mhz, xrand::next())
    }

    /// As [`VModel::new`], with the initial values given.
    pub fn with_x_init(top: Top, clock_mhz: f64, x_init: XInit) -> Result<Self, SimError> {
        let vt = top.vtable();
        let create = vt.create.expect("shim without create");
        let (rand_reset, rand_seed) = x_init.verilator_args();
        // SAFETY: `create` allocates a fresh model and returns an owning pointer (or NULL); its
        // arguments are plain integers.
        let raw = unsafe { create(rand_reset, rand_seed) };
        let handle = NonNull::new(raw).ok_or(SimError::ModelCreate(top.name.to_string()))?;
        let mut count = 0usize;
        let ports_fn = vt.ports.expect("shim without ports");
        // SAFETY: `handle` is live; the table it returns lives as long as the model and holds
        // `count` entries whose names are NUL-terminated static strings.
        let table = unsafe { std::slice::from_raw_parts(ports_fn(handle.as_ptr(), &mut count), count) };
        let mut names = Vec::with_capacity(count);
        let mut slots = Vec::with_capacity(count);
        for p in table {
            // SAFETY: see above: `name` points at a static C string.
            names.push(unsafe { CStr::from_ptr(p.name) }.to_string_lossy().into_owned());
            slots.push(PortSlot { ptr: p.ptr, width: p.width });
        }
        let half_period_ps = (1e6 / clock_mhz / 2.0).round().max(1.0) as u64;
        let mut m = VModel {
            top,
            vt,
            handle,
            names,
            slots,
            clk: PortId(0),
            time_ps: 0,
            half_period_ps,
            tracing: false,
            cycles: 0,
        };
        m.clk = m.port("clk_i")?;
        if let Some(path) = super::waves::next(top.name) {
            m.trace_open(&path)?;
        }
        Ok(m)
    }

    pub fn port(&self, name: &str) -> Result<PortId, SimError> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(PortId)
            .ok_or_else(|| SimError::NoPort { model: self.name().into(), port: name.into() })
    }

    pub fn width(&self, p: PortId) -> u32 {
        self.slots[p.0].width
    }

    pub fn name(&self) -> &'static str {
        // SAFETY: the vtable's name is a static C string.
        unsafe { CStr::from_ptr(self.vt.name) }.to_str().unwrap_or("?")
    }

    /// Writes a port of width <= 64.
    #[inline]
    pub fn set(&mut self, p: PortId, v: u64) {
        let s = self.slots[p.0];
        // SAFETY: `ptr` points at the port's storage inside the live model, whose C type is
        // fixed by the width as documented in pam_vmodel.h; `&mut self` excludes other access.
        unsafe {
            match s.width {
                0..=8 => *(s.ptr as *mut u8) = v as u8,
                9..=16 => *(s.ptr as *mut u16) = v as u16,
                17..=32 => *(s.ptr as *mut u32) = v as u32,
                33..=64 => *(s.ptr as *mut u64) = v,
                _ => panic!("set() on a port wider than 64 bits"),
            }
        }
    }

    /// Reads a port of width <= 64.
    #[inline]
    pub fn get(&self, p: PortId) -> u64 {
        let s = self.slots[p.0];
        // SAFETY: as in `set`; reads only.
        unsafe {
            match s.width {
                0..=8 => *(s.ptr as *const u8) as u64,
                9..=16 => *(s.ptr as *const u16) as u64,
                17..=32 => *(s.ptr as *const u32) as u64,
                33..=64 => *(s.ptr as *const u64),
                _ => panic!("get() on a port wider than 64 bits"),
            }
        }
    }

    /// Writes a port of any width from 32-bit words, least significant first.
    #[inline]
    pub fn set_words(&mut self, p: PortId, words: &[u32]) {
        let s = self.slots[p.0];
        if s.width <= 64 {
            let lo = words.first().copied().unwrap_or(0) as u64;
            let hi = words.get(1).copied().unwrap_or(0) as u64;
            self.set(p, lo | (hi << 32));
            return;
        }
        let n = s.width.div_ceil(32) as usize;
        assert_eq!(words.len(), n, "port width mismatch");
        // SAFETY: wide ports are arrays of `n` u32 words (VlWide) inside the live model.
        unsafe { std::ptr::copy_nonoverlapping(words.as_ptr(), s.ptr as *mut u32, n) }
    }

    /// Reads a port of any width into 32-bit words, least significant first.
    #[inline]
    pub fn get_words(&self, p: PortId, out: &mut [u32]) {
        let s = self.slots[p.0];
        if s.width <= 64 {
            let v = self.get(p);
            out[0] = v as u32;
            if out.len() > 1 {
                out[1] = (v >> 32) as u32;
            }
            return;
        }
        let n = s.width.div_ceil(32) as usize;
        assert_eq!(out.len(), n, "port width mismatch");
        // SAFETY: as in `set_words`; reads only.
        unsafe { std::ptr::copy_nonoverlapping(s.ptr as *const u32, out.as_mut_ptr(), n) }
    }

    #[inline]
    pub fn eval(&mut self) {
        // SAFETY: `handle` is a live model owned by self.
        unsafe { (self.vt.eval.unwrap_unchecked())(self.handle.as_ptr()) }
    }

    /// Falling edge: drive clk low and settle. Combinational outputs now reflect the inputs
    /// set since the last rising edge, so handshakes are decided between `fall` and `rise`.
    #[inline]
    pub fn fall(&mut self) {
        let clk = self.clk;
        self.set(clk, 0);
        self.eval();
        self.dump();
        self.time_ps += self.half_period_ps;
    }

    /// Rising edge: registers update.
    #[inline]
    pub fn rise(&mut self) {
        let clk = self.clk;
        self.set(clk, 1);
        self.eval();
        self.dump();
        self.time_ps += self.half_period_ps;
        self.cycles += 1;
    }

    /// A clock cycle the caller knows changes nothing in the model (it is stalled): time and
    /// the cycle count advance, nothing is evaluated, the dump simply holds its values.
    pub fn skip_cycle(&mut self) {
        self.time_ps += 2 * self.half_period_ps;
        self.cycles += 1;
    }

    /// One full clock cycle.
    pub fn tick(&mut self) {
        self.fall();
        self.rise();
    }

    /// Synchronous reset: `rst_n` low for two cycles, then high.
    pub fn reset(&mut self, rst_n: PortId) {
        self.set(rst_n, 0);
        self.tick();
        self.tick();
        self.set(rst_n, 1);
    }

    /// Raises `valid`, waits for `ready` (sampled between the edges, as a flop would see it),
    /// takes the rising edge that transfers, and drops `valid`. Fails after `limit` cycles.
    pub fn handshake(&mut self, valid: PortId, ready: PortId, limit: u64, unit: &'static str) -> Result<(), SimError> {
        self.set(valid, 1);
        for _ in 0..=limit {
            self.fall();
            let fire = self.get(ready) != 0;
            self.rise();
            if fire {
                self.set(valid, 0);
                return Ok(());
            }
        }
        self.set(valid, 0);
        Err(SimError::Hang { unit, cycles: limit })
    }

    /// Rising edges seen since creation.
    pub fn cycles(&self) -> u64 {
        self.cycles
    }

    pub fn time_ps(&self) -> u64 {
        self.time_ps
    }

    #[inline]
    fn dump(&mut self) {
        if self.tracing {
            // SAFETY: live model; the shim ignores the call when no trace is open.
            unsafe { (self.vt.trace_dump.unwrap_unchecked())(self.handle.as_ptr(), self.time_ps) }
        }
    }

    /// Starts an FST dump of every signal (GTKWave reads it directly); time unit 1 ps.
    pub fn trace_open(&mut self, path: &Path) -> Result<(), SimError> {
        let c =
            CString::new(path.to_string_lossy().as_bytes()).map_err(|_| SimError::Trace(path.display().to_string()))?;
        // SAFETY: live model; `c` outlives the call (the shim copies the path).
        let rc = unsafe { (self.vt.trace_open.unwrap_unchecked())(self.handle.as_ptr(), c.as_ptr(), 99) };
        if rc != 0 {
            return Err(SimError::Trace(path.display().to_string()));
        }
        self.tracing = true;
        Ok(())
    }

    pub fn trace_close(&mut self) {
        if self.tracing {
            // SAFETY: live model with an open trace.
            unsafe { (self.vt.trace_close.unwrap_unchecked())(self.handle.as_ptr()) }
            self.tracing = false;
        }
    }
}

impl Drop for VModel {
    fn drop(&mut self) {
        self.trace_close();
        if super::coverage::active() {
            let (vt, handle) = (self.vt, self.handle);
            super::coverage::harvest(self.top, |path| {
                let Ok(c) = CString::new(path.to_string_lossy().as_bytes()) else { return false };
                let Some(write) = vt.coverage_write else { return false };
                // SAFETY: `handle` is still live (destroyed below); the shim only reads `c`, which
                // outlives the call; its directory exists (coverage::harvest makes the path).
                unsafe { write(handle.as_ptr(), c.as_ptr()) == 0 }
            });
        }
        // SAFETY: `handle` came from `create` and is released exactly once, here.
        unsafe { (self.vt.destroy.unwrap_unchecked())(self.handle.as_ptr()) }
    }
}
