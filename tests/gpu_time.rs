//! GPU and model presets, and GPU time with its two kinds of backend (SERVING-SPEC §2, §3, §6),
//! against the measured profiles in `../shared/gpu-profiles/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pam::serve::gpu::{
    compare_backends, preset, worst_disagreement, AttentionOn, Batch, Comm, GpuPreset, GpuTime, Mlp, ModelShape,
    NetworkTable, PrefillChunk, Roofline, ServingSimBundle, Stage, VidurTable,
};

const PROFILES: &str = "../shared/gpu-profiles";
const VIDUR_MLP: &str = "vidur/compute/h100/meta-llama/Llama-2-70b-hf/mlp.csv";
const VIDUR_AR: &str = "vidur/network/h100_dgx/all_reduce.csv";
const VIDUR_SR: &str = "vidur/network/h100_dgx/send_recv.csv";
const BUNDLE: &str = "llmservingsim/RTX4090/meta-llama/Llama-3.1-8B/bf16";

fn profile(rel: &str) -> PathBuf {
    Path::new(PROFILES).join(rel)
}

fn gpu(name: &str) -> GpuPreset {
    GpuPreset::by_name(name).expect("GPU preset")
}

fn model(name: &str) -> ModelShape {
    ModelShape::by_name(name).expect("model preset")
}

fn vidur() -> VidurTable {
    VidurTable::load(profile(VIDUR_MLP), &gpu("h100-sxm")).expect("Vidur mlp.csv")
}

fn network() -> NetworkTable {
    NetworkTable::load_vidur(profile(VIDUR_AR), profile(VIDUR_SR)).expect("Vidur network tables")
}

fn bundle() -> ServingSimBundle {
    ServingSimBundle::load(profile(BUNDLE), &gpu("rtx4090")).expect("LLMServingSim bundle")
}

/// A minimal independent CSV reader for the test's own expectations: header -> column index,
/// and the rows' fields (the shared files have no quoting).
fn read_plain_csv(path: &Path) -> (BTreeMap<String, usize>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).expect("read profile");
    let mut lines = text.lines();
    let header = lines.next().expect("header").split(',').enumerate().map(|(i, h)| (h.to_string(), i)).collect();
    let rows = lines.filter(|l| !l.is_empty()).map(|l| l.split(',').map(String::from).collect()).collect();
    (header, rows)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn presets_match_the_spec() {
    let h100 = gpu("h100-sxm");
    assert_eq!((h100.peak_tflops, h100.memory_bandwidth_gbs), (989.4, 3350.0));
    assert_eq!(h100.link.bandwidth_gbs * 2.0, 900.0, "NVLink 900 GB/s per GPU, 450 each way");
    assert!((h100.memory_bytes() as f64 / 1e9 - 80.0).abs() < 6.0);
    let a100 = gpu("a100-80gb");
    assert_eq!((a100.peak_tflops, a100.memory_bandwidth_gbs), (312.0, 2039.0));
    let rtx = gpu("rtx4090");
    assert_eq!((rtx.peak_tflops, rtx.memory_bandwidth_gbs), (165.2, 1008.0));
    assert_eq!(rtx.memory_bytes() >> 30, 23, "24 GB card, 24564 MiB usable");

    // KV bytes per token (SERVING-SPEC §3) and the published parameter counts (weights in BF16).
    let kib = 1024;
    let cases = [
        ("qwen2.5-32b", 256 * kib, 32.5e9),
        ("llama3-70b", 320 * kib, 70.6e9),
        ("opt-175b", 4608 * kib, 175e9),
        ("llama-3.1-8b", 128 * kib, 8.03e9),
    ];
    for (name, kv, params) in cases {
        let m = model(name);
        assert_eq!(m.kv_bytes_per_token(), kv, "{name}: KV bytes per token");
        let p = m.params() as f64;
        assert!((p / params - 1.0).abs() < 0.02, "{name}: {p:.4e} parameters, published {params:.3e}");
        assert_eq!(m.weight_bytes(), 2 * m.params(), "{name}: BF16 weights");
    }
    assert_eq!(model("opt-175b").mlp, Mlp::Plain);
    assert_eq!(model("llama3-70b").mlp, Mlp::Gated);

    // A custom shape is the same struct, from a file of the same format.
    let custom = "- {name: tiny, layers: 2, hidden: 256, q_heads: 4, kv_heads: 2, head_dim: 64, ffn: 512, \
                  vocab: 1000, mlp: gated}\n";
    let tiny = &preset::load_models("custom.yaml", custom).expect("custom model")[0];
    assert_eq!(tiny.kv_bytes_per_token(), 2 * 2 * 2 * 64 * 2);
    assert!(tiny.rope && !tiny.tied_embeddings && tiny.dtype_bytes == 2);
}

#[test]
fn vidur_table_hits_measured_points_and_is_monotone_between() {
    let table = vidur();
    let (header, rows) = read_plain_csv(&profile(VIDUR_MLP));
    let col = |name: &str| header[name];
    // Expected: each operator's median, averaged over repeated (tokens, TP) rows.
    let mut expect: BTreeMap<(u32, u64, &str), Vec<f64>> = BTreeMap::new();
    for r in &rows {
        let tp: u32 = r[col("num_tensor_parallel_workers")].parse().expect("tp");
        let n: u64 = r[col("num_tokens")].parse().expect("tokens");
        for op in pam::serve::gpu::vidur::OPERATORS {
            let ms: f64 = r[col(&format!("time_stats.{op}.median"))].parse().expect("median");
            expect.entry((tp, n, op)).or_default().push(ms * 1e3);
        }
    }
    for (&(tp, n, op), v) in &expect {
        let want = v.iter().sum::<f64>() / v.len() as f64;
        let got = table.op_us(tp, op, n).expect("op");
        assert!(close(got, want), "TP {tp} {op} at {n} tokens: {got} us, measured {want} us");
    }
    for tp in table.tp_degrees() {
        let points = table.token_points(tp).expect("points");
        for op in pam::serve::gpu::vidur::OPERATORS {
            for w in points.windows(2) {
                let (a, b) = (table.op_us(tp, op, w[0]).expect("a"), table.op_us(tp, op, w[1]).expect("b"));
                let (lo, hi) = (a.min(b), a.max(b));
                let mut prev = a;
                for x in w[0]..=w[1] {
                    let y = table.op_us(tp, op, x).expect("between");
                    assert!(y >= lo - 1e-9 && y <= hi + 1e-9, "TP {tp} {op} at {x}: {y} outside [{lo}, {hi}]");
                    assert!((y - prev) * (b - a) >= -1e-12, "TP {tp} {op} not monotone at {x}");
                    prev = y;
                }
            }
        }
    }
}

#[test]
fn roofline_and_vidur_table_agree_within_35_percent() {
    let table = vidur();
    let h100 = gpu("h100-sxm");
    let corrected = Roofline::new(&h100);
    let plain = Roofline::plain(&h100);
    assert!(corrected.correction().is_some(), "the H100 preset documents a GEMM correction");
    let m = model("llama3-70b");
    let tps = table.tp_degrees();
    for tp in [1, 2, 4] {
        assert!(tps.contains(&tp), "Vidur's profile has TP {tp}");
    }
    println!("non-attention decoder-layer time, LLaMA3-70B on H100: table / roofline (1 = agreement)");
    let mut failures = Vec::new();
    for tp in tps {
        let tokens = table.token_points(tp).expect("tokens");
        assert_eq!((tokens[0], tokens[tokens.len() - 1]), (1, 4096), "TP {tp}: 1 to 4096 tokens");
        let rows = compare_backends(&corrected, &table, &m, tp, &tokens).expect("compare");
        let raw = compare_backends(&plain, &table, &m, tp, &tokens).expect("compare plain");
        for r in &rows {
            assert!(close(r.ratio, r.table_us / r.roofline_us));
        }
        let w = worst_disagreement(&rows).expect("rows");
        let wr = worst_disagreement(&raw).expect("rows");
        let range = |rows: &[pam::serve::gpu::BackendComparison]| {
            let lo = rows.iter().map(|r| r.ratio).fold(f64::INFINITY, f64::min);
            let hi = rows.iter().map(|r| r.ratio).fold(0.0, f64::max);
            format!("[{lo:.2}, {hi:.2}]")
        };
        println!(
            "TP {tp}: corrected roofline ratio {} worst {:.3} at {} tokens ({:.1} us table, {:.1} us roofline); \
             plain roofline ratio {} worst {:.3} at {} tokens",
            range(&rows),
            w.ratio,
            w.tokens,
            w.table_us,
            w.roofline_us,
            range(&raw),
            wr.ratio,
            wr.tokens
        );
        for r in rows.iter().filter(|r| [1, 64, 128, 256, 264, 512, 520, 1024, 2048, 4096].contains(&r.tokens)) {
            println!(
                "  {:>5} tokens: roofline {:>8.1} us, table {:>8.1} us, ratio {:.3}",
                r.tokens, r.roofline_us, r.table_us, r.ratio
            );
        }
        if w.disagreement() > 1.35 {
            failures.push(format!("TP {tp}: ratio {:.3} at {} tokens", w.ratio, w.tokens));
        }
    }
    assert!(failures.is_empty(), "roofline and table disagree by more than 35%: {failures:?}");
}

#[test]
fn bundle_reproduces_its_own_points() {
    let b = bundle();
    assert_eq!(b.tp_degrees(), [1]);
    assert_eq!(b.profiled(), ("meta-llama/Llama-3.1-8B", "RTX4090"));
    let dir = profile(BUNDLE).join("tp1");
    let (h, rows) = read_plain_csv(&dir.join("dense.csv"));
    assert!(rows.len() > 1000);
    for r in &rows {
        let n: u64 = r[h["tokens"]].parse().expect("tokens");
        let want: f64 = r[h["time_us"]].parse().expect("time");
        let got = b.dense_op_us(1, &r[h["layer"]], n).expect("dense op");
        assert!(close(got, want), "{} at {n} tokens: {got} us, measured {want} us", r[h["layer"]]);
    }
    let (h, rows) = read_plain_csv(&dir.join("per_sequence.csv"));
    for r in &rows {
        let n: u64 = r[h["sequences"]].parse().expect("sequences");
        let want: f64 = r[h["time_us"]].parse().expect("time");
        assert!(close(b.sequence_op_us(1, &r[h["layer"]], n).expect("op"), want));
    }
    let (h, rows) = read_plain_csv(&dir.join("attention.csv"));
    let m = model("llama-3.1-8b");
    for r in &rows {
        let k: Vec<f64> = ["prefill_chunk", "kv_prefill", "n_decode", "kv_decode"]
            .iter()
            .map(|c| r[h[*c]].parse().expect("key"))
            .collect();
        let want: f64 = r[h["time_us"]].parse().expect("time");
        let got = b.attention_point_us(1, [k[0], k[1], k[2], k[3]]).expect("grid");
        assert!(close(got, want), "attention at {k:?}: {got} us, measured {want} us");
        // The batch API lands on the same point: one prefill chunk and equal decode contexts.
        let batch = Batch {
            prefills: if k[0] > 0.0 {
                vec![PrefillChunk { tokens: k[0] as u32, context: k[1] as u32, last: true }]
            } else {
                vec![]
            },
            decodes: vec![k[3] as u32; k[2] as usize],
        };
        assert!(close(b.layer_attention_us(&m, 1, &batch).expect("attention"), want), "batch at {k:?}");
    }
}

#[test]
fn roofline_and_bundle_on_rtx4090() {
    let b = bundle();
    let r = Roofline::new(&gpu("rtx4090"));
    let m = model("llama-3.1-8b");
    let tokens: Vec<u64> = (1..=2048).filter(|n| n % 16 == 0 || *n <= 16).collect();
    let rows = compare_backends(&r, &b, &m, 1, &tokens).expect("compare");
    let lo = rows.iter().map(|r| r.ratio).fold(f64::INFINITY, f64::min);
    let hi = rows.iter().map(|r| r.ratio).fold(0.0, f64::max);
    let w = worst_disagreement(&rows).expect("rows");
    println!(
        "Llama-3.1-8B on RTX 4090, bundle / plain roofline: [{lo:.2}, {hi:.2}], worst {:.3} at {} tokens",
        w.ratio, w.tokens
    );
    assert!(w.disagreement() <= 1.35, "RTX 4090: ratio {:.3} at {} tokens", w.ratio, w.tokens);
}

#[test]
fn all_reduce_from_the_table_and_the_formula() {
    let net = network();
    assert_eq!(net.all_reduce_gpus(), [2, 4, 8]);
    let table = Comm::Table(net);
    let mb4 = f64::from(4u32 << 20);
    let t = table.all_reduce_us(mb4, 4).expect("4 GPUs");
    println!("4 MB all-reduce over 4 GPUs: {t:.1} us (table)");
    assert!((t - 47.0).abs() < 1.0, "4 MB over 4 GPUs: {t} us, Vidur measured 47 us");
    // Below the smallest measured message (2 KB): the smallest message's time, a fixed cost.
    let small = table.all_reduce_us(1e3, 4).expect("small");
    assert!(small >= 35.0 && small == table.all_reduce_us(2048.0, 4).expect("2 KB"), "1 KB over 4 GPUs: {small} us");
    assert_eq!(table.all_reduce_us(mb4, 1).expect("one GPU"), 0.0);
    assert!(table.all_reduce_us(mb4, 3).is_err(), "3 GPUs are not in the table");
    // Above 64 MB: extrapolated, growing.
    let big = table.all_reduce_us(256e6, 8).expect("extrapolated");
    assert!(big > table.all_reduce_us(64e6, 8).expect("64 MB"));
    let sr = table.send_recv_us(mb4).expect("send/recv");
    assert!(sr > 0.0 && sr < t);
    let formula = Roofline::new(&gpu("h100-sxm"));
    for (bytes, n) in [(mb4, 2), (mb4, 4), (mb4, 8), (64e6, 8)] {
        println!(
            "all-reduce {:>6.1} MB over {n} GPUs: table {:>6.1} us, formula {:>6.1} us",
            bytes / 1e6,
            table.all_reduce_us(bytes, n).expect("table"),
            formula.comm().all_reduce_us(bytes, n).expect("formula")
        );
    }
}

#[test]
fn iteration_breakdown() {
    let m = model("llama3-70b");
    let table = vidur().with_network(network());
    let roof = Roofline::new(&gpu("h100-sxm"));
    let batch = Batch {
        prefills: vec![
            PrefillChunk { tokens: 512, context: 0, last: false },
            PrefillChunk { tokens: 200, context: 1024, last: true },
        ],
        decodes: (0..100).map(|i| 500 + 37 * i).collect(),
    };
    for backend in [&table as &dyn GpuTime, &roof] {
        let stage = |index, attention| Stage { model: &m, tp: 4, pp: 2, index, attention };
        let first = backend.iteration(&stage(0, AttentionOn::Gpu), &batch).expect("stage 0");
        let last = backend.iteration(&stage(1, AttentionOn::Gpu), &batch).expect("stage 1");
        println!("{}:\n  stage 0 {first:?}\n  stage 1 {last:?}", backend.name());
        assert_eq!((first.layers, last.layers), (40, 40));
        assert!(first.dense_us > 0.0 && first.attention_us > 0.0 && first.all_reduce_us > 0.0);
        assert!(first.pp_transfer_us > 0.0 && first.lm_head_us == 0.0);
        assert!(last.pp_transfer_us == 0.0 && last.lm_head_us > 0.0);
        let parts = first.dense_us + first.attention_us + first.all_reduce_us + first.pp_transfer_us;
        assert!(close(first.total_us(), parts));
        // Two all-reduces per layer plus the embedding's on the first stage.
        let ar = backend.comm().all_reduce_us(batch.tokens() as f64 * 8192.0 * 2.0, 4).expect("all-reduce");
        assert!(close(first.all_reduce_us, 81.0 * ar) && close(last.all_reduce_us, 80.0 * ar));
        // Attention offloaded to PIM: the same work without attention.
        let pim = backend.iteration(&stage(1, AttentionOn::Pim), &batch).expect("pim");
        assert_eq!(pim.attention_us, 0.0);
        assert_eq!(
            (pim.dense_us, pim.all_reduce_us, pim.lm_head_us),
            (last.dense_us, last.all_reduce_us, last.lm_head_us)
        );
        // Longer decode contexts cost more attention, not more dense time.
        let mut longer = batch.clone();
        longer.decodes.iter_mut().for_each(|c| *c *= 4);
        let l = backend.iteration(&stage(1, AttentionOn::Gpu), &longer).expect("longer");
        assert!(l.attention_us > last.attention_us && l.dense_us == last.dense_us);
        assert_eq!(backend.iteration(&stage(0, AttentionOn::Gpu), &Batch::default()).expect("idle").total_us(), 0.0);
        // Out-of-range parameters are errors, not panics.
        assert!(backend.iteration(&stage(2, AttentionOn::Gpu), &batch).is_err());
        assert!(backend.iteration(&Stage { tp: 3, ..stage(0, AttentionOn::Gpu) }, &batch).is_err());
    }
    // The table serves only its own layer shape and TP degrees.
    let qwen = model("qwen2.5-32b");
    assert!(table.layer_dense_us(&qwen, 1, 64).is_err());
    assert!(table.layer_dense_us(&m, 16, 64).is_err());

    let b = bundle();
    let small = model("llama-3.1-8b");
    let t = b
        .iteration(&Stage { model: &small, tp: 1, pp: 1, index: 0, attention: AttentionOn::Gpu }, &batch)
        .expect("bundle iteration");
    println!("{}: {t:?}", b.name());
    assert!(t.attention_us > 0.0 && t.lm_head_us > 0.0 && t.all_reduce_us == 0.0 && t.pp_transfer_us == 0.0);
    let err = b.layer_dense_us(&qwen, 1, 64).expect_err("another model").to_string();
    assert!(err.contains("meta.yaml:"), "{err}");
}

/// A copy of a profile file in a temporary folder, with line `line` (1-based) edited.
fn corrupt(src: &Path, name: &str, line: usize, edit: impl Fn(&str) -> String) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pam-gpu-time-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let text = std::fs::read_to_string(src).expect("read");
    let out: Vec<String> =
        text.lines().enumerate().map(|(i, l)| if i + 1 == line { edit(l) } else { l.to_string() }).collect();
    let path = dir.join(name);
    std::fs::write(&path, out.join("\n") + "\n").expect("write");
    path
}

fn replace_field(line: &str, col: usize, value: &str) -> String {
    let mut f: Vec<&str> = line.split(',').collect();
    f[col] = value;
    f.join(",")
}

#[test]
fn malformed_files_are_rejected_with_file_line_and_column() {
    let h100 = gpu("h100-sxm");
    let (header, _) = read_plain_csv(&profile(VIDUR_MLP));
    let up = header["time_stats.mlp_up_proj.median"];
    let tokens = header["num_tokens"];
    let expect = |err: String, path: &Path, line: usize, col: usize| {
        let at = format!("{}:{line}:{}:", path.display(), col + 1);
        assert!(err.starts_with(&at), "expected `{at}`, got `{err}`");
    };

    let p = corrupt(&profile(VIDUR_MLP), "mlp_text.csv", 3, |l| replace_field(l, up, "fast"));
    expect(VidurTable::load(&p, &h100).expect_err("text").to_string(), &p, 3, up);
    let p = corrupt(&profile(VIDUR_MLP), "mlp_negative.csv", 7, |l| replace_field(l, up, "-0.5"));
    expect(VidurTable::load(&p, &h100).expect_err("negative").to_string(), &p, 7, up);
    let p = corrupt(&profile(VIDUR_MLP), "mlp_tokens.csv", 5, |l| replace_field(l, tokens, "4.5"));
    expect(VidurTable::load(&p, &h100).expect_err("fractional tokens").to_string(), &p, 5, tokens);
    let p = corrupt(&profile(VIDUR_MLP), "mlp_short.csv", 9, |l| {
        l.rsplit_once(',').map_or(String::new(), |x| x.0.to_string())
    });
    expect(VidurTable::load(&p, &h100).expect_err("short row").to_string(), &p, 9, header.len() - 1);
    let p = corrupt(&profile(VIDUR_MLP), "mlp_header.csv", 1, |l| l.replace("num_tokens", "tokens"));
    expect(VidurTable::load(&p, &h100).expect_err("missing column").to_string(), &p, 1, header.len());
    let p = corrupt(&profile(VIDUR_MLP), "mlp_shape.csv", 11, |l| replace_field(l, header["n_embd"], "4096"));
    expect(VidurTable::load(&p, &h100).expect_err("shape").to_string(), &p, 11, header["n_embd"]);

    let (nh, _) = read_plain_csv(&profile(VIDUR_AR));
    let p = corrupt(&profile(VIDUR_AR), "all_reduce.csv", 4, |l| replace_field(l, nh["size"], "big"));
    let err = NetworkTable::load_vidur(&p, profile(VIDUR_SR)).expect_err("size").to_string();
    expect(err, &p, 4, nh["size"]);

    // The bundle: copy it and corrupt one file at a time.
    let src = profile(BUNDLE);
    let dir = std::env::temp_dir().join(format!("pam-gpu-time-{}-bundle", std::process::id()));
    std::fs::create_dir_all(dir.join("tp1")).expect("bundle dir");
    let files = ["meta.yaml", "tp1/dense.csv", "tp1/attention.csv", "tp1/per_sequence.csv"];
    let restore = || {
        for f in files {
            std::fs::copy(src.join(f), dir.join(f)).expect("copy");
        }
    };
    let rtx = gpu("rtx4090");
    restore();
    ServingSimBundle::load(&dir, &rtx).expect("an intact copy loads");
    let edit = |f: &str, line: usize, e: &dyn Fn(&str) -> String| {
        restore();
        let p = corrupt(&src.join(f), "edit", line, e);
        std::fs::copy(&p, dir.join(f)).expect("place");
        (ServingSimBundle::load(&dir, &rtx).expect_err(f).to_string(), dir.join(f))
    };
    let (err, p) = edit("tp1/dense.csv", 20, &|l| replace_field(l, 2, "NaN"));
    expect(err, &p, 20, 2);
    let (err, p) = edit("tp1/attention.csv", 100, &|l| replace_field(l, 3, "-16"));
    expect(err, &p, 100, 3);
    let (err, p) = edit("tp1/per_sequence.csv", 1, &|l| l.replace("sequences", "seqs"));
    expect(err, &p, 1, 3);
    let meta = std::fs::read_to_string(src.join("meta.yaml")).expect("meta.yaml");
    let tp_line = meta.lines().position(|l| l.starts_with("tp_degrees:")).expect("tp_degrees") + 1;
    let (err, p) = edit("meta.yaml", tp_line, &|_| "tp_degrees: [one]".to_string());
    expect(err, &p, tp_line, 13);
    let (err, p) = edit("meta.yaml", tp_line, &|_| "tp_degrees: [1".to_string());
    let at = format!("{}:", p.display());
    let line = err.strip_prefix(&at).and_then(|rest| rest.split(':').next()).and_then(|l| l.parse::<usize>().ok());
    assert!(line.is_some_and(|l| l >= tp_line), "unclosed list: {err}");
    println!("meta.yaml errors name line and column: {err}");
}
