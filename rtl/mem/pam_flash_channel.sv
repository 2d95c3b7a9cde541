// pam_flash_channel: one flash channel of the SSD-PIM device: DIES dies (pam_flash_die) on a
// shared channel bus, and the channel's operation sequencer in the SSD controller.
//
// The bus moves one WIDTH-bit beat between the controller and one die's page register per
// transfer, at most one transfer every xfer_gap_i controller cycles (the channel rate: 32 B
// at 2400 MT/s on an 8-bit channel is 13.3 ns, 14 cycles at 1 GHz, rounded up so the model
// is never faster than the channel). Array commands (page read, program) take no bus slot
// here: they only start a die's tR / tPROG, so the dies of a channel read in parallel while
// the bus serialises their transfers.
//
// Operations (op_* valid/ready, one at a time, in order):
//   WRITE_BEAT (die, beat, data)   the beat goes over the bus into the die's page register;
//   PROGRAM    (die, page)         the die programs its page register to the page (tPROG);
//   READ_PAGE  (die, page)         starts the die's page read (tR) and completes at once, so
//                                  that later operations of other dies overlap the read; a
//                                  no-op when the register already holds the page;
//   STREAM     (die, page, beat, count, pu)  reads the page if the register does not hold it
//                                  (tR), then moves `count` beats from `beat` on over the bus,
//                                  each to the PU stream `pu` (out_*); a transfer waits for
//                                  pu_ready_i;
//   READ_BEAT  (die, page, beat)   as STREAM with one beat, which goes to the host (out_host_o).
// Every operation waits until its die is idle (not busy) before it touches the die.
// Latency: an op is taken in the idle state; a beat leaves on out_* one cycle after its
// transfer; back-to-back STREAMs of a held page keep the bus at one beat per xfer_gap_i.
// no_wait_i (test only) drops the waits for tR and for the bus slot, so that the device's
// timing checker can be shown to catch what it must.
// mon_*: the bus as the timing checker and the host's counts see it (array commands and
// transfers, with their die).
module pam_flash_channel #(
  parameter int unsigned DIES       = 4,
  parameter int unsigned NPAGES     = 64,
  parameter int unsigned PAGE_BYTES = 16384,
  parameter int unsigned WIDTH      = 256,
  parameter int unsigned PUS        = 8,
  parameter int unsigned TW         = 24,
  localparam int unsigned BEATS     = PAGE_BYTES * 8 / WIDTH,
  localparam int unsigned DIE_W     = (DIES > 1) ? $clog2(DIES) : 1,
  localparam int unsigned PAGE_W    = (NPAGES > 1) ? $clog2(NPAGES) : 1,
  localparam int unsigned BEAT_W    = (BEATS > 1) ? $clog2(BEATS) : 1,
  localparam int unsigned PU_W      = (PUS > 1) ? $clog2(PUS) : 1,
  localparam int unsigned OP_W      = 3
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic [TW-1:0]     t_r_i,
  input  logic [TW-1:0]     t_prog_i,
  input  logic [15:0]       xfer_gap_i,
  input  logic              no_wait_i,

  input  logic              op_valid_i,
  output logic              op_ready_o,
  input  logic [OP_W-1:0]   op_i,
  input  logic [DIE_W-1:0]  die_i,
  input  logic [PAGE_W-1:0] page_i,
  input  logic [BEAT_W-1:0] beat_i,
  input  logic [BEAT_W:0]   count_i,
  input  logic [PU_W-1:0]   pu_i,
  input  logic [WIDTH-1:0]  data_i,

  input  logic              pu_ready_i,
  output logic              out_valid_o,
  output logic              out_host_o,
  output logic [PU_W-1:0]   out_pu_o,
  output logic [WIDTH-1:0]  out_data_o,

  output logic              mon_cmd_o,
  output logic              mon_prog_o,
  output logic              mon_xfer_o,
  output logic [DIE_W-1:0]  mon_die_o,
  output logic              idle_o,
  output logic              err_o
);
  localparam logic [OP_W-1:0] OP_WRITE_BEAT = 3'd0;
  localparam logic [OP_W-1:0] OP_READ_BEAT  = 3'd1;
  localparam logic [OP_W-1:0] OP_READ_PAGE  = 3'd2;
  localparam logic [OP_W-1:0] OP_PROGRAM    = 3'd3;
  localparam logic [OP_W-1:0] OP_STREAM     = 3'd4;

  typedef enum logic [1:0] {StIdle, StPrep, StXfer} state_e;

  state_e            state_q;
  logic [OP_W-1:0]   op_q;
  logic [DIE_W-1:0]  die_q;
  logic [PAGE_W-1:0] page_q;
  logic [BEAT_W-1:0] beat_q;
  logic [BEAT_W:0]   left_q;
  logic [PU_W-1:0]   pu_q;
  logic [WIDTH-1:0]  data_q;
  logic [15:0]       since_q;        // cycles since the last transfer (saturating)
  logic              out_pend_q, out_host_q;
  logic [PU_W-1:0]   out_pu_q;
  logic [DIE_W-1:0]  out_die_q;

  // ---- dies -------------------------------------------------------------------------------
  logic [DIES-1:0]  die_busy, die_reg_valid, die_err, die_rvalid;
  logic [PAGE_W-1:0] die_reg_page [DIES];
  logic [WIDTH-1:0]  die_rdata [DIES];
  logic              cmd, cmd_prog, xfer;

  for (genvar d = 0; d < DIES; d++) begin : g_die
    wire sel = die_q == DIE_W'(d);
    pam_flash_die #(.NPAGES(NPAGES), .PAGE_BYTES(PAGE_BYTES), .WIDTH(WIDTH), .TW(TW)) u_die (
      .clk_i, .rst_ni, .t_r_i, .t_prog_i,
      .cmd_valid_i(cmd && sel), .cmd_prog_i(cmd_prog), .cmd_page_i(page_q),
      .busy_o(die_busy[d]), .reg_valid_o(die_reg_valid[d]), .reg_page_o(die_reg_page[d]),
      .wr_valid_i(xfer && sel && op_q == OP_WRITE_BEAT), .wr_idx_i(beat_q), .wr_data_i(data_q),
      .rd_valid_i(xfer && sel && op_q != OP_WRITE_BEAT), .rd_idx_i(beat_q),
      .rd_valid_o(die_rvalid[d]), .rd_data_o(die_rdata[d]),
      .err_o(die_err[d])
    );
  end

  // The die the current op addresses.
  wire busy  = die_busy[die_q];
  wire holds = die_reg_valid[die_q] && die_reg_page[die_q] == page_q;

  // ---- sequencer ----------------------------------------------------------------------------
  wire slot_ok = no_wait_i || since_q >= xfer_gap_i;
  wire reads   = op_q == OP_STREAM || op_q == OP_READ_BEAT;

  always_comb begin
    cmd      = 1'b0;
    cmd_prog = 1'b0;
    xfer     = 1'b0;
    unique case (state_q)
      StPrep: begin
        if (!busy) begin
          if (op_q == OP_PROGRAM) begin
            cmd      = 1'b1;
            cmd_prog = 1'b1;
          end else if ((op_q == OP_READ_PAGE || reads) && !holds) begin
            cmd = 1'b1;
          end
        end
      end
      StXfer: xfer = slot_ok && (op_q != OP_STREAM || pu_ready_i);
      default: ;
    endcase
  end

  assign op_ready_o = state_q == StIdle;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      state_q    <= StIdle;
      op_q       <= '0;
      die_q      <= '0;
      page_q     <= '0;
      beat_q     <= '0;
      left_q     <= '0;
      pu_q       <= '0;
      data_q     <= '0;
      since_q    <= '1;
      out_pend_q <= 1'b0;
      out_host_q <= 1'b0;
      out_pu_q   <= '0;
      out_die_q  <= '0;
    end else begin
      since_q    <= xfer ? 16'd1 : ((since_q == '1) ? since_q : since_q + 16'd1);
      out_pend_q <= xfer && reads;
      if (xfer) begin
        out_host_q <= op_q == OP_READ_BEAT;
        out_pu_q   <= pu_q;
        out_die_q  <= die_q;
      end
      unique case (state_q)
        StIdle: if (op_valid_i) begin
          op_q    <= op_i;
          die_q   <= die_i;
          page_q  <= page_i;
          beat_q  <= beat_i;
          left_q  <= (op_i == OP_STREAM) ? count_i : (BEAT_W + 1)'(1);
          pu_q    <= pu_i;
          data_q  <= data_i;
          state_q <= StPrep;
        end
        // Wait for the die; read the page when a read op needs it; then go to the bus.
        StPrep: begin
          if (op_q == OP_PROGRAM || op_q == OP_READ_PAGE) begin
            if (!busy) state_q <= StIdle;
          end else if (left_q == '0) begin
            state_q <= StIdle;
          end else if (busy ? no_wait_i : (!reads || holds)) begin
            state_q <= StXfer;
          end
        end
        StXfer: if (xfer) begin
          beat_q <= beat_q + BEAT_W'(1);
          left_q <= left_q - (BEAT_W + 1)'(1);
          if (left_q == (BEAT_W + 1)'(1)) state_q <= StIdle;
        end
        default: state_q <= StIdle;
      endcase
    end
  end

  assign out_valid_o = out_pend_q && die_rvalid[out_die_q];
  assign out_host_o  = out_host_q;
  assign out_pu_o    = out_pu_q;
  assign out_data_o  = die_rdata[out_die_q];

  assign mon_cmd_o  = cmd;
  assign mon_prog_o = cmd_prog;
  assign mon_xfer_o = xfer;
  assign mon_die_o  = die_q;
  assign idle_o     = state_q == StIdle && !out_pend_q && die_busy == '0;
  assign err_o      = |die_err;

`ifndef SYNTHESIS
  // Cover points (rtl/README.md, Coverage): every state and transition, every operation, the
  // page register hit and miss, each wait (die busy, bus slot, PUs).
  c_st_idle: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle);
  c_st_prep: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StPrep);
  c_st_xfer: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StXfer);
  c_op_write_beat: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle && op_valid_i && op_i == OP_WRITE_BEAT);
  c_op_read_beat: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle && op_valid_i && op_i == OP_READ_BEAT);
  c_op_read_page: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle && op_valid_i && op_i == OP_READ_PAGE);
  c_op_program: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle && op_valid_i && op_i == OP_PROGRAM);
  c_op_stream: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StIdle && op_valid_i && op_i == OP_STREAM);
  c_prep_array_done: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StPrep && (op_q == OP_PROGRAM || op_q == OP_READ_PAGE) && !busy);
  c_prep_empty: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StPrep && op_q != OP_PROGRAM && op_q != OP_READ_PAGE && left_q == '0);
  c_prep_to_xfer: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StPrep && op_q != OP_PROGRAM && op_q != OP_READ_PAGE && left_q != '0 && !busy && (!reads || holds));
  c_xfer_more: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StXfer && xfer && left_q != (BEAT_W + 1)'(1));
  c_xfer_done: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StXfer && xfer && left_q == (BEAT_W + 1)'(1));
  c_read_page_held: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StPrep && op_q == OP_READ_PAGE && !busy && holds);
  c_stream_page_held: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StPrep && op_q == OP_STREAM && !busy && holds);
  c_stream_page_read: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StPrep && op_q == OP_STREAM && cmd);
  c_wait_die_busy: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StPrep && busy);
  c_wait_bus_slot: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StXfer && !slot_ok);
  c_pu_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) state_q == StXfer && slot_ok && op_q == OP_STREAM && !pu_ready_i);
  c_op_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) op_valid_i && !op_ready_o);
`endif
endmodule
