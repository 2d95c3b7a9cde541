// pam_flash_die: one NAND flash die holding real data, for the SSD-PIM device model.
//
// NPAGES pages of PAGE_BYTES each (BEATS beats of WIDTH bits) and one page register. The die
// obeys two array commands (cmd_valid_i, cmd_prog_i) while idle:
//   READ_PAGE (cmd_prog_i = 0)  the die is busy for t_r_i cycles, then the page is in the
//                                page register (reg_valid_o, reg_page_o);
//   PROGRAM   (cmd_prog_i = 1)  the die is busy for t_prog_i cycles, then the page register
//                                is written to the page (which the register then also holds).
// There is no erase: a PROGRAM replaces the whole page.
// Beats move between the channel and the page register: wr_* writes beat wr_idx_i of the
// register (the register then no longer equals a page: reg_valid_o drops); rd_* reads beat
// rd_idx_i, which appears on rd_data_o with rd_valid_o for the cycle after (one cycle).
// Latency: a command sampled on edge k makes busy_o high from edge k to edge k + t (t cycles);
// the page lands in the register on edge k + t, so a beat read on edge k + t + 1 or later
// sees it. t_r_i / t_prog_i are sampled with the command (0 counts as 1).
// err_o is sticky (cleared by reset): a command or a register write while busy (ignored).
// A register read while busy is carried out (stale data) and not flagged here: finding it is
// the device's timing checker's job. Storage and register are not reset.
module pam_flash_die #(
  parameter int unsigned NPAGES     = 64,
  parameter int unsigned PAGE_BYTES = 16384,
  parameter int unsigned WIDTH      = 256,
  parameter int unsigned TW         = 24,
  localparam int unsigned BEATS     = PAGE_BYTES * 8 / WIDTH,
  localparam int unsigned PAGE_W    = (NPAGES > 1) ? $clog2(NPAGES) : 1,
  localparam int unsigned BEAT_W    = (BEATS > 1) ? $clog2(BEATS) : 1
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic [TW-1:0]     t_r_i,
  input  logic [TW-1:0]     t_prog_i,

  input  logic              cmd_valid_i,
  input  logic              cmd_prog_i,
  input  logic [PAGE_W-1:0] cmd_page_i,
  output logic              busy_o,
  output logic              reg_valid_o,
  output logic [PAGE_W-1:0] reg_page_o,

  input  logic              wr_valid_i,
  input  logic [BEAT_W-1:0] wr_idx_i,
  input  logic [WIDTH-1:0]  wr_data_i,
  input  logic              rd_valid_i,
  input  logic [BEAT_W-1:0] rd_idx_i,
  output logic              rd_valid_o,
  output logic [WIDTH-1:0]  rd_data_o,

  output logic              err_o
);
  if (PAGE_BYTES * 8 % WIDTH != 0 || NPAGES < 1) begin : g_cfg_check
    $error("pam_flash_die: a page must be a whole number of beats");
  end

  logic [WIDTH-1:0]  mem_q  [NPAGES][BEATS];
  logic [WIDTH-1:0]  preg_q [BEATS];
  logic [WIDTH-1:0]  rdata_q;
  logic [TW-1:0]     left_q;
  logic              prog_q, reg_valid_q, rvalid_q, err_q;
  logic [PAGE_W-1:0] page_q, reg_page_q;

  wire busy   = left_q != '0;
  wire start  = cmd_valid_i && !busy;
  wire done   = left_q == TW'(1);
  wire do_wr  = wr_valid_i && !busy;
  wire [TW-1:0] t_cmd = cmd_prog_i ? t_prog_i : t_r_i;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      left_q      <= '0;
      prog_q      <= 1'b0;
      page_q      <= '0;
      reg_valid_q <= 1'b0;
      reg_page_q  <= '0;
      rvalid_q    <= 1'b0;
      err_q       <= 1'b0;
    end else begin
      rvalid_q <= rd_valid_i;
      if ((cmd_valid_i || wr_valid_i) && busy) err_q <= 1'b1;
      if (start) begin
        left_q <= (t_cmd == '0) ? TW'(1) : t_cmd;
        prog_q <= cmd_prog_i;
        page_q <= cmd_page_i;
      end else if (busy) begin
        left_q <= left_q - TW'(1);
      end
      if (done) begin
        reg_valid_q <= 1'b1;
        reg_page_q  <= page_q;
      end else if (do_wr) begin
        reg_valid_q <= 1'b0;
      end
    end
  end

  // Storage, page register and read register: not reset.
  always_ff @(posedge clk_i) begin
    if (done && !prog_q) preg_q <= mem_q[page_q];
    if (done && prog_q) mem_q[page_q] <= preg_q;
    if (do_wr) preg_q[wr_idx_i] <= wr_data_i;
    if (rd_valid_i) rdata_q <= preg_q[rd_idx_i];
  end

  assign busy_o      = busy;
  assign reg_valid_o = reg_valid_q;
  assign reg_page_o  = reg_page_q;
  assign rd_valid_o  = rvalid_q;
  assign rd_data_o   = rdata_q;
  assign err_o       = err_q;
endmodule
