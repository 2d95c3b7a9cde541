// pam_dram_pim_dev: the memory side of one DRAM-PIM device of the HBM-PIM or DDR-PIM tier
// (spec §3, §4, §6): NBG x NBANK banks holding real K/V bytes (pam_dram_bank), the command
// sequencer (pam_dram_pim_ctrl), the timing checker on the command bus
// (pam_dram_timing_check), and one beat stream per PU (a PU serves BANKS_PER_PU banks).
//
// The PUs and RUs are separate Verilated models (pam_pu, pam_ru) that the host clocks beside
// this one and connects beat for beat (src/device/dram.rs): each PU is then compiled once
// instead of once per instance, which keeps a 16-PU device buildable in minutes.
//
// Layout (project decision, see rtl/README.md): a token's K beats then V beats lie in
// consecutive columns of one row. With a PU per bank pair the token is striped over the pair:
// beat 2j in the even bank and beat 2j+1 in the odd bank, both at column base + j, so that
// one all-bank RD hands the PU two consecutive beats of the same token (the odd bank's beat
// one cycle after the even bank's). Attention runs in all-bank lockstep: SLOT ops open a row
// in every bank and read a slot's columns in every bank at once; PU p's stream carries its
// beats only when bit p of the slot mask is set.
//
// Host protocol (hc_* valid/ready, one op per handshake; hc_data_i / hc_mask_i are sampled
// with the op): WRITE (bg, bank, row, col, data); READ (bg, bank, row, col: the beat appears
// on hr_data_o with hr_valid_o one cycle after the RD, without back-pressure); SLOT (row, col,
// mask). Beat streams (beat_valid_o[p], beat_data_o[p]) have no back-pressure: a SLOT's RDs
// wait until pu_ready_i is high (every PU can take two beats).
// Latency: a beat leaves one cycle after its RD (two for the odd bank of a pair).
// err_o: a bank protocol error.
module pam_dram_pim_dev
  import pam_mem_pkg::*;
#(
  parameter int unsigned NBG          = 4,
  parameter int unsigned NBANK        = 4,
  parameter int unsigned BANKS_PER_PU = 2,
  parameter int unsigned LANES        = 16,
  parameter int unsigned ROWS         = 128,
  parameter int unsigned COLS         = 32,
  parameter int unsigned DMAX         = 256,
  localparam int unsigned NBANKS      = NBG * NBANK,
  localparam int unsigned NPU         = NBANKS / BANKS_PER_PU,
  localparam int unsigned WIDTH       = LANES * 16,
  localparam int unsigned BG_W        = (NBG > 1) ? $clog2(NBG) : 1,
  localparam int unsigned BA_W        = (NBANK > 1) ? $clog2(NBANK) : 1,
  localparam int unsigned ROW_W       = $clog2(ROWS),
  localparam int unsigned COL_W       = $clog2(COLS),
  localparam int unsigned DIM_W       = $clog2(DMAX + 1)
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,
  input  dram_timing_t         cfg_timing_i,
  input  logic [T_W-1:0]       cfg_rd_gap_i,
  input  logic [DIM_W-1:0]     cfg_dim_i,

  input  logic                 hc_valid_i,
  output logic                 hc_ready_o,
  input  logic [1:0]           hc_op_i,
  input  logic [BG_W-1:0]      hc_bg_i,
  input  logic [BA_W-1:0]      hc_bank_i,
  input  logic [ROW_W-1:0]     hc_row_i,
  input  logic [COL_W-1:0]     hc_col_i,
  input  logic [NPU-1:0]       hc_mask_i,
  input  logic [WIDTH-1:0]     hc_data_i,

  output logic                 hr_valid_o,
  output logic [WIDTH-1:0]     hr_data_o,

  output logic [NPU-1:0]       beat_valid_o,
  output logic [NPU*WIDTH-1:0] beat_data_o,
  input  logic                 pu_ready_i,

  // the command bus, for the host's command log and statistics
  output logic                 bus_valid_o,
  output dram_cmd_e            bus_cmd_o,
  output logic                 bus_all_o,
  output logic [BG_W-1:0]      bus_bg_o,
  output logic [BA_W-1:0]      bus_bank_o,
  output logic [ROW_W-1:0]     bus_row_o,
  output logic [COL_W-1:0]     bus_col_o,
  output logic                 viol_o,
  output dram_rule_e           viol_kind_o,
  output logic [15:0]          viol_count_o,
  output logic                 err_o
);
  if (NBANK % BANKS_PER_PU != 0 || (BANKS_PER_PU != 1 && BANKS_PER_PU != 2)) begin : g_cfg_check
    $error("pam_dram_pim_dev: BANKS_PER_PU must be 1 or 2 and divide NBANK");
  end

  // ---- host data latch ------------------------------------------------------------------------
  logic [WIDTH-1:0] data_q;
  always_ff @(posedge clk_i) begin
    if (!rst_ni) data_q <= '0;
    else if (hc_valid_i && hc_ready_o) data_q <= hc_data_i;
  end

  // ---- geometry of a token in columns ---------------------------------------------------------
  logic [COL_W:0] cols_per_token;
  logic [31:0]    beats_per_token;
  assign beats_per_token = 2 * ((32'(cfg_dim_i) + LANES - 1) / LANES);
  assign cols_per_token  = (COL_W + 1)'((beats_per_token + BANKS_PER_PU - 1) / BANKS_PER_PU);

  // ---- sequencer and checker --------------------------------------------------------------------
  localparam int unsigned BI_W = (NBANKS > 1) ? $clog2(NBANKS) : 1;
  logic [NPU-1:0]    rd_mask;
  logic              host_rd;
  logic [NBANKS-1:0] bank_open, bank_err, bank_rvalid;
  logic [ROW_W-1:0]  bank_row [NBANKS];
  logic [WIDTH-1:0]  bank_rdata [NBANKS];
  // Flat index of the bank a single-bank command addresses.
  wire [BI_W-1:0] target = BI_W'(32'(bus_bg_o) * NBANK + 32'(bus_bank_o));

  pam_dram_pim_ctrl #(
    .NBG(NBG), .NBANK(NBANK), .NPU(NPU), .ROWS(ROWS), .COLS(COLS)
  ) u_ctrl (
    .clk_i, .rst_ni,
    .timing_i(cfg_timing_i), .rd_gap_i(cfg_rd_gap_i), .cols_per_token_i(cols_per_token),
    .hc_valid_i, .hc_ready_o, .hc_op_i, .hc_bg_i, .hc_bank_i, .hc_row_i, .hc_col_i, .hc_mask_i,
    .bus_valid_o, .bus_cmd_o, .bus_all_o, .bus_bg_o, .bus_bank_o, .bus_row_o, .bus_col_o,
    .any_open_i(|bank_open), .target_open_i(bank_open[target]), .target_row_i(bank_row[target]),
    .rd_mask_o(rd_mask), .host_rd_o(host_rd), .pu_ready_i
  );

  // viol_kind_o names the first broken rule; the full set is not needed here.
  /* verilator lint_off UNUSEDSIGNAL */
  logic [NRULES:1] viol_rules;
  /* verilator lint_on UNUSEDSIGNAL */
  pam_dram_timing_check #(.NBG(NBG), .NBANK(NBANK)) u_check (
    .clk_i, .rst_ni, .timing_i(cfg_timing_i),
    .cmd_valid_i(bus_valid_o), .cmd_i(bus_cmd_o), .all_i(bus_all_o), .bg_i(bus_bg_o),
    .bank_i(bus_bank_o),
    .viol_o, .viol_kind_o, .viol_rules_o(viol_rules), .viol_count_o
  );

  // ---- banks ------------------------------------------------------------------------------------
  for (genvar b = 0; b < NBANKS; b++) begin : g_bank
    wire hit = bus_valid_o && (bus_all_o || bus_cmd_o == CMD_REF || target == BI_W'(b));
    pam_dram_bank #(.ROWS(ROWS), .COLS(COLS), .WIDTH(WIDTH)) u_bank (
      .clk_i, .rst_ni,
      .cmd_valid_i(hit), .cmd_i(bus_cmd_o), .row_i(bus_row_o), .col_i(bus_col_o), .wdata_i(data_q),
      .rdata_o(bank_rdata[b]), .rvalid_o(bank_rvalid[b]), .open_o(bank_open[b]),
      .open_row_o(bank_row[b]), .err_o(bank_err[b])
    );
  end

  assign hr_valid_o = host_rd;
  assign hr_data_o  = bank_rdata[target];

  // ---- bank beats to the PU streams -------------------------------------------------------------
  for (genvar p = 0; p < NPU; p++) begin : g_stream
    if (BANKS_PER_PU == 1) begin : g_single
      assign beat_valid_o[p]                = rd_mask[p] && bank_rvalid[p];
      assign beat_data_o[p*WIDTH +: WIDTH]  = bank_rdata[p];
    end else begin : g_pair
      // The odd bank's beat follows the even bank's one cycle later.
      logic             odd_valid_q;
      logic [WIDTH-1:0] odd_q;
      wire first = rd_mask[p] && bank_rvalid[2 * p] && bank_rvalid[2 * p + 1];
      always_ff @(posedge clk_i) begin
        if (!rst_ni) begin
          odd_valid_q <= 1'b0;
          odd_q       <= '0;
        end else begin
          odd_valid_q <= first;
          if (first) odd_q <= bank_rdata[2 * p + 1];
        end
      end
      assign beat_valid_o[p]               = first || odd_valid_q;
      assign beat_data_o[p*WIDTH +: WIDTH] = first ? bank_rdata[2 * p] : odd_q;
    end
  end

  assign err_o = |bank_err;

`ifndef SYNTHESIS
  // Cover points (rtl/README.md, Coverage): back-pressure on the host, host reads, PU masks.
  c_hc_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) hc_valid_i && !hc_ready_o);
  c_host_read: cover property (@(posedge clk_i) disable iff (!rst_ni) hr_valid_o);
  c_beats_no_pu_ready: cover property (@(posedge clk_i) disable iff (!rst_ni) beat_valid_o != '0 && !pu_ready_i);
  c_slot_some_pus: cover property (@(posedge clk_i) disable iff (!rst_ni) rd_mask != '0 && !(&rd_mask));
  c_slot_all_pus: cover property (@(posedge clk_i) disable iff (!rst_ni) &rd_mask);
`endif
endmodule
