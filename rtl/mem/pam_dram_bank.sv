// pam_dram_bank: one DRAM bank holding real data, for the PIM device models.
//
// ROWS x COLS words of WIDTH bits (WIDTH = one column access: 256 bits in HBM,
// 64 in DDR) and the row-buffer state (open_o, open_row_o). The bank obeys the
// commands of pam_mem_pkg when cmd_valid_i says it is addressed (the device
// decodes bank and all-bank addressing; REF reaches every bank):
//   ACT  opens row_i;        RD reads column col_i of the open row;
//   WR   writes wdata_i to column col_i of the open row;
//   PRE  closes the row (no-op when closed);  REF refreshes (no data effect).
// Latency: RD sampled on clock edge k gives rdata_o with rvalid_o high for
// exactly the cycle after edge k (one cycle); rdata_o holds its value until
// the next read. WR is visible to a RD issued on the next edge.
// err_o is a sticky protocol error (cleared by reset only): RD/WR to a closed
// bank (ignored: no write, no rvalid), ACT to an open bank (ignored: the open
// row stays), REF while open. Timing is not checked here; that is
// pam_dram_timing_check's job. Storage is not reset.
// Requires ROWS >= 2 and COLS >= 2.
module pam_dram_bank
  import pam_mem_pkg::*;
#(
  parameter int unsigned ROWS  = 8,
  parameter int unsigned COLS  = 8,
  parameter int unsigned WIDTH = 64,
  localparam int unsigned ROW_W = $clog2(ROWS),
  localparam int unsigned COL_W = $clog2(COLS)
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             cmd_valid_i,
  input  dram_cmd_e        cmd_i,
  input  logic [ROW_W-1:0] row_i,
  input  logic [COL_W-1:0] col_i,
  input  logic [WIDTH-1:0] wdata_i,
  output logic [WIDTH-1:0] rdata_o,
  output logic             rvalid_o,
  output logic             open_o,
  output logic [ROW_W-1:0] open_row_o,
  output logic             err_o
);
  logic [WIDTH-1:0] mem_q [ROWS][COLS];
  logic             open_q, rvalid_q, err_q;
  logic [ROW_W-1:0] row_q;
  logic [WIDTH-1:0] rdata_q;

  wire is_act = cmd_valid_i && (cmd_i == CMD_ACT);
  wire is_rd  = cmd_valid_i && (cmd_i == CMD_RD);
  wire is_wr  = cmd_valid_i && (cmd_i == CMD_WR);
  wire is_pre = cmd_valid_i && (cmd_i == CMD_PRE);
  wire is_ref = cmd_valid_i && (cmd_i == CMD_REF);

  wire do_rd  = is_rd && open_q;
  wire do_wr  = is_wr && open_q;
  wire bad    = ((is_rd || is_wr) && !open_q) || ((is_act || is_ref) && open_q);

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      open_q   <= 1'b0;
      row_q    <= '0;
      rvalid_q <= 1'b0;
      err_q    <= 1'b0;
    end else begin
      rvalid_q <= do_rd;
      if (bad) err_q <= 1'b1;
      if (is_act && !open_q) begin
        open_q <= 1'b1;
        row_q  <= row_i;
      end else if (is_pre) begin
        open_q <= 1'b0;
      end
    end
  end

  // Storage and read register: not reset.
  always_ff @(posedge clk_i) begin
    if (do_wr) mem_q[row_q][col_i] <= wdata_i;
    if (do_rd) rdata_q <= mem_q[row_q][col_i];
  end

  assign rdata_o    = rdata_q;
  assign rvalid_o   = rvalid_q;
  assign open_o     = open_q;
  assign open_row_o = row_q;
  assign err_o      = err_q;
endmodule
