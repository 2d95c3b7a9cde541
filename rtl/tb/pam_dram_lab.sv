// pam_dram_lab: test top for the host (src/rtl/dram_lab.rs): NBG x NBANK
// pam_dram_bank instances of a small geometry behind one command bus, with a
// pam_dram_timing_check watching the bus. Not hardware of the PIM devices.
//
// The bus decodes the address like a PIM device in all-bank lockstep mode:
// bank b = bg_i * NBANK + bank_i, or every bank with all_i=1 (and for REF).
// Timing comes in as one port per value (memory clocks).
// Latency: the checker outputs (viol_*) are combinational on the bus (cycle of
// the command); a RD on edge k gives rvalid_o / rdata_o (the bank addressed
// by that RD; for an all-bank RD the bank named by bg_i/bank_i) and
// bank_rvalid_o / bank_rdata_o (every bank, bank b at bits [b*WIDTH +: WIDTH])
// in the cycle after edge k. bank_open_o, bank_open_row_o (bank b at bits
// [b*ROW_W +: ROW_W]) and bank_err_o are the banks' row-buffer state and
// sticky protocol errors.
module pam_dram_lab
  import pam_mem_pkg::*;
#(
  parameter int unsigned NBG     = 2,
  parameter int unsigned NBANK   = 2,
  parameter int unsigned ROWS    = 8,
  parameter int unsigned COLS    = 8,
  parameter int unsigned WIDTH   = 64,
  parameter int unsigned COUNT_W = 16,
  localparam int unsigned NB     = NBG * NBANK,
  localparam int unsigned BG_W   = (NBG > 1) ? $clog2(NBG) : 1,
  localparam int unsigned BA_W   = (NBANK > 1) ? $clog2(NBANK) : 1,
  localparam int unsigned NB_W   = (NB > 1) ? $clog2(NB) : 1,
  localparam int unsigned ROW_W  = $clog2(ROWS),
  localparam int unsigned COL_W  = $clog2(COLS)
) (
  input  logic                clk_i,
  input  logic                rst_ni,
  // Command bus
  input  logic                cmd_valid_i,
  input  logic [CMD_W-1:0]    cmd_i,
  input  logic                all_i,
  input  logic [BG_W-1:0]     bg_i,
  input  logic [BA_W-1:0]     bank_i,
  input  logic [ROW_W-1:0]    row_i,
  input  logic [COL_W-1:0]    col_i,
  input  logic [WIDTH-1:0]    wdata_i,
  // Read data
  output logic                rvalid_o,
  output logic [WIDTH-1:0]    rdata_o,
  output logic [NB-1:0]       bank_rvalid_o,
  output logic [NB*WIDTH-1:0] bank_rdata_o,
  output logic [NB-1:0]       bank_open_o,
  output logic [NB*ROW_W-1:0] bank_open_row_o,
  output logic [NB-1:0]       bank_err_o,
  // Timing (memory clocks)
  input  logic [T_W-1:0]      t_rcd_i,
  input  logic [T_W-1:0]      t_rp_i,
  input  logic [T_W-1:0]      t_ras_i,
  input  logic [T_W-1:0]      t_rc_i,
  input  logic [T_W-1:0]      t_rrd_s_i,
  input  logic [T_W-1:0]      t_rrd_l_i,
  input  logic [T_W-1:0]      t_faw_i,
  input  logic [T_W-1:0]      t_ccd_s_i,
  input  logic [T_W-1:0]      t_ccd_l_i,
  input  logic [T_W-1:0]      t_wr_i,
  input  logic [T_W-1:0]      t_rtp_i,
  input  logic [T_W-1:0]      t_refi_i,
  input  logic [T_W-1:0]      t_rfc_i,
  // Checker
  output logic                viol_o,
  output logic [RULE_W-1:0]   viol_kind_o,
  output logic [NRULES:1]     viol_rules_o,
  output logic [COUNT_W-1:0]  viol_count_o
);
  dram_cmd_e    cmd;
  dram_timing_t timing;
  dram_rule_e   kind;
  logic [NB-1:0]    bank_sel;
  logic [NB_W-1:0]  rd_bank_q;
  logic [WIDTH-1:0] bank_rdata [NB];

  assign cmd    = dram_cmd_e'(cmd_i);
  assign timing = '{
    t_rcd:   t_rcd_i,
    t_rp:    t_rp_i,
    t_ras:   t_ras_i,
    t_rc:    t_rc_i,
    t_rrd_s: t_rrd_s_i,
    t_rrd_l: t_rrd_l_i,
    t_faw:   t_faw_i,
    t_ccd_s: t_ccd_s_i,
    t_ccd_l: t_ccd_l_i,
    t_wr:    t_wr_i,
    t_rtp:   t_rtp_i,
    t_refi:  t_refi_i,
    t_rfc:   t_rfc_i
  };

  wire [NB_W-1:0] addr = NB_W'(bg_i) * NB_W'(NBANK) + NB_W'(bank_i);

  for (genvar b = 0; b < NB; b++) begin : g_bank
    assign bank_sel[b] = cmd_valid_i
                         && (all_i || cmd == CMD_REF || addr == NB_W'(b));
    pam_dram_bank #(
      .ROWS  (ROWS),
      .COLS  (COLS),
      .WIDTH (WIDTH)
    ) u_bank (
      .clk_i       (clk_i),
      .rst_ni      (rst_ni),
      .cmd_valid_i (bank_sel[b]),
      .cmd_i       (cmd),
      .row_i       (row_i),
      .col_i       (col_i),
      .wdata_i     (wdata_i),
      .rdata_o     (bank_rdata[b]),
      .rvalid_o    (bank_rvalid_o[b]),
      .open_o      (bank_open_o[b]),
      .open_row_o  (bank_open_row_o[b*ROW_W +: ROW_W]),
      .err_o       (bank_err_o[b])
    );
    assign bank_rdata_o[b*WIDTH +: WIDTH] = bank_rdata[b];
  end

  // The bank a RD names, for rdata_o in the cycle after.
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      rd_bank_q <= '0;
    end else if (cmd_valid_i && cmd == CMD_RD) begin
      rd_bank_q <= addr;
    end
  end
  assign rvalid_o = bank_rvalid_o[rd_bank_q];
  assign rdata_o  = bank_rdata[rd_bank_q];

  pam_dram_timing_check #(
    .NBG     (NBG),
    .NBANK   (NBANK),
    .COUNT_W (COUNT_W)
  ) u_check (
    .clk_i        (clk_i),
    .rst_ni       (rst_ni),
    .timing_i     (timing),
    .cmd_valid_i  (cmd_valid_i),
    .cmd_i        (cmd),
    .all_i        (all_i),
    .bg_i         (bg_i),
    .bank_i       (bank_i),
    .viol_o       (viol_o),
    .viol_kind_o  (kind),
    .viol_rules_o (viol_rules_o),
    .viol_count_o (viol_count_o)
  );
  assign viol_kind_o = kind;
endmodule
