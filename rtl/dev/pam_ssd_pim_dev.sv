// pam_ssd_pim_dev: the memory side of one SSD-PIM device (spec §3, §6): NCH flash channels of
// DIES dies each (pam_flash_channel, pam_flash_die) holding real K/V bytes, the controller's
// per-channel operation queues, one beat stream per PU, and a timing checker on every channel.
//
// The PUs and RUs sit in the SSD controller; they are separate Verilated models (pam_pu,
// pam_ru) that the host clocks beside this one and connects beat for beat, as for the DRAM
// tiers. PU numbering: PU = channel * PUS_PER_CH + p, where p (hc_pu_i) is chosen by the host
// (src/device/ssd.rs: the token's slot in its page modulo PUS_PER_CH); a channel's PUs share
// its bus, so a channel delivers at most one beat per xfer_gap to all its PUs together.
//
// Host protocol (hc_* valid/ready, one op per handshake, all fields sampled with the op):
// hc_ch_i selects the channel; the op enters that channel's queue (QDEPTH ops), so hc_ready_o
// is the room in that queue (ch_room_o shows every queue's room, so the host can pick a
// channel that can take an op). Ops (pam_flash_channel): WRITE_BEAT (die, beat, data),
// READ_BEAT (die, page, beat: the beat appears on hr_data_o with hr_valid_o; at most one
// outstanding), READ_PAGE (die, page), PROGRAM (die, page), STREAM (die, page, beat, count,
// pu). Each channel runs its queue in order; channels run in parallel.
// Beat streams (beat_valid_o[p], beat_data_o[p]) have no back-pressure: a STREAM transfer
// waits until pu_ready_i is high (every PU can take two more beats).
// Latency: an op reaches its channel one cycle after the handshake; a beat leaves one cycle
// after its transfer on the channel bus.
// Timing checker (independent of the sequencers: it sees only the array commands and the
// transfers on each channel bus, with the timing inputs): a transfer to or from a die whose
// tR / tPROG, started by its last array command, is not over (the transfer must come at least
// t + 1 cycles after the command, the first edge that sees the page in the register), and two
// transfers on one channel less than cfg_xfer_gap_i cycles apart (two transfers in one slot).
// viol_o pulses with every violation, viol_kind_o holds the kinds seen since reset (bit 0:
// tR/tPROG, bit 1: bus slot), viol_count_o counts them (saturating).
// idle_o: every queue empty, every sequencer idle, no die busy. err_o: a die protocol error.
module pam_ssd_pim_dev #(
  parameter int unsigned NCH        = 8,
  parameter int unsigned DIES       = 4,
  parameter int unsigned NPAGES     = 16,
  parameter int unsigned PAGE_BYTES = 16384,
  parameter int unsigned LANES      = 16,
  parameter int unsigned PUS_PER_CH = 8,
  parameter int unsigned QDEPTH     = 4,
  localparam int unsigned TW        = 24,
  localparam int unsigned WIDTH     = LANES * 16,
  localparam int unsigned NPU       = NCH * PUS_PER_CH,
  localparam int unsigned BEATS     = PAGE_BYTES * 8 / WIDTH,
  localparam int unsigned CH_W      = (NCH > 1) ? $clog2(NCH) : 1,
  localparam int unsigned DIE_W     = (DIES > 1) ? $clog2(DIES) : 1,
  localparam int unsigned PAGE_W    = (NPAGES > 1) ? $clog2(NPAGES) : 1,
  localparam int unsigned BEAT_W    = (BEATS > 1) ? $clog2(BEATS) : 1,
  localparam int unsigned PU_W      = (PUS_PER_CH > 1) ? $clog2(PUS_PER_CH) : 1,
  localparam int unsigned OP_W      = 3
) (
  input  logic                 clk_i,
  input  logic                 rst_ni,
  input  logic [TW-1:0]        cfg_t_r_i,
  input  logic [TW-1:0]        cfg_t_prog_i,
  input  logic [15:0]          cfg_xfer_gap_i,
  input  logic                 dbg_no_wait_i,

  input  logic                 hc_valid_i,
  output logic                 hc_ready_o,
  input  logic [OP_W-1:0]      hc_op_i,
  input  logic [CH_W-1:0]      hc_ch_i,
  input  logic [DIE_W-1:0]     hc_die_i,
  input  logic [PAGE_W-1:0]    hc_page_i,
  input  logic [BEAT_W-1:0]    hc_beat_i,
  input  logic [BEAT_W:0]      hc_count_i,
  input  logic [PU_W-1:0]      hc_pu_i,
  input  logic [WIDTH-1:0]     hc_data_i,
  output logic [NCH-1:0]       ch_room_o,

  output logic                 hr_valid_o,
  output logic [WIDTH-1:0]     hr_data_o,

  output logic [NPU-1:0]       beat_valid_o,
  output logic [NPU*WIDTH-1:0] beat_data_o,
  input  logic                 pu_ready_i,

  // per-channel bus events (array command, program, transfer, their die), for the host
  output logic [NCH-1:0]       mon_read_o,
  output logic [NCH-1:0]       mon_prog_o,
  output logic [NCH-1:0]       mon_xfer_o,
  output logic [NCH*DIE_W-1:0] mon_die_o,
  output logic                 idle_o,
  output logic                 viol_o,
  output logic [1:0]           viol_kind_o,
  output logic [15:0]          viol_count_o,
  output logic                 err_o
);
  localparam int unsigned QW = OP_W + DIE_W + PAGE_W + BEAT_W + (BEAT_W + 1) + PU_W + WIDTH;
  localparam int unsigned TS_W = 32;
  // Time starts far from zero so that "never" (timestamp 0) satisfies every timing.
  localparam logic [TS_W-1:0] TIME_ORIGIN = TS_W'(1) << (TW + 1);

  logic [NCH-1:0]   q_in_ready, q_out_valid, op_ready, out_valid, out_host;
  logic [NCH-1:0]   ch_idle, ch_err, mon_cmd, mon_prog, mon_xfer;
  logic [PU_W-1:0]  out_pu [NCH];
  logic [WIDTH-1:0] out_data [NCH];
  logic [DIE_W-1:0] mon_die [NCH];
  logic [NCH-1:0]   viol_tr, viol_slot;

  logic [TS_W-1:0] now_q;
  always_ff @(posedge clk_i) begin
    if (!rst_ni) now_q <= TIME_ORIGIN;
    else now_q <= now_q + TS_W'(1);
  end

  for (genvar c = 0; c < NCH; c++) begin : g_ch
    // ---- operation queue ----------------------------------------------------------------------
    logic [QW-1:0]     q_in, q_out;
    logic [OP_W-1:0]   op;
    logic [DIE_W-1:0]  die;
    logic [PAGE_W-1:0] page;
    logic [BEAT_W-1:0] beat;
    logic [BEAT_W:0]   count;
    logic [PU_W-1:0]   pu;
    logic [WIDTH-1:0]  data;
    assign q_in = {hc_op_i, hc_die_i, hc_page_i, hc_beat_i, hc_count_i, hc_pu_i, hc_data_i};
    assign {op, die, page, beat, count, pu, data} = q_out;

    pam_fifo #(.WIDTH(QW), .DEPTH(QDEPTH)) u_queue (
      .clk_i, .rst_ni,
      .in_valid_i(hc_valid_i && hc_ch_i == CH_W'(c)), .in_ready_o(q_in_ready[c]), .in_data_i(q_in),
      .out_valid_o(q_out_valid[c]), .out_ready_i(op_ready[c]), .out_data_o(q_out)
    );

    pam_flash_channel #(
      .DIES(DIES), .NPAGES(NPAGES), .PAGE_BYTES(PAGE_BYTES), .WIDTH(WIDTH), .PUS(PUS_PER_CH), .TW(TW)
    ) u_channel (
      .clk_i, .rst_ni, .t_r_i(cfg_t_r_i), .t_prog_i(cfg_t_prog_i), .xfer_gap_i(cfg_xfer_gap_i),
      .no_wait_i(dbg_no_wait_i),
      .op_valid_i(q_out_valid[c]), .op_ready_o(op_ready[c]), .op_i(op), .die_i(die),
      .page_i(page), .beat_i(beat), .count_i(count), .pu_i(pu), .data_i(data),
      .pu_ready_i,
      .out_valid_o(out_valid[c]), .out_host_o(out_host[c]), .out_pu_o(out_pu[c]),
      .out_data_o(out_data[c]),
      .mon_cmd_o(mon_cmd[c]), .mon_prog_o(mon_prog[c]), .mon_xfer_o(mon_xfer[c]),
      .mon_die_o(mon_die[c]), .idle_o(ch_idle[c]), .err_o(ch_err[c])
    );

    assign mon_die_o[c*DIE_W +: DIE_W] = mon_die[c];

    // ---- PU streams of this channel -------------------------------------------------------------
    for (genvar p = 0; p < PUS_PER_CH; p++) begin : g_pu
      localparam int unsigned G = c * PUS_PER_CH + p;
      assign beat_valid_o[G]             = out_valid[c] && !out_host[c] && out_pu[c] == PU_W'(p);
      assign beat_data_o[G*WIDTH +: WIDTH] = out_data[c];
    end

    // ---- timing checker -------------------------------------------------------------------------
    logic [TS_W-1:0] start_q [DIES];   // edge of each die's last array command
    logic [TW-1:0]   len_q [DIES];     // its tR or tPROG
    logic [TS_W-1:0] last_xfer_q;
    wire [TS_W-1:0] since_cmd = now_q - start_q[mon_die[c]];
    wire [TS_W-1:0] since_xfer = now_q - last_xfer_q;
    assign viol_tr[c]   = mon_xfer[c] && since_cmd <= {{(TS_W - TW){1'b0}}, len_q[mon_die[c]]};
    assign viol_slot[c] = mon_xfer[c] && since_xfer < {{(TS_W - 16){1'b0}}, cfg_xfer_gap_i};
    always_ff @(posedge clk_i) begin
      if (!rst_ni) begin
        for (int unsigned d = 0; d < DIES; d++) begin
          start_q[d] <= '0;
          len_q[d]   <= '0;
        end
        last_xfer_q <= '0;
      end else begin
        if (mon_cmd[c]) begin
          start_q[mon_die[c]] <= now_q;
          len_q[mon_die[c]]   <= mon_prog[c] ? cfg_t_prog_i : cfg_t_r_i;
        end
        if (mon_xfer[c]) last_xfer_q <= now_q;
      end
    end
`ifndef SYNTHESIS
    // Cover points (rtl/README.md, Coverage): both checker rules met on the earliest legal
    // clock or the one after (tR and tPROG apart), the channels' back-pressure and overlap.
    logic cov_prog_q [DIES];  // the die's last array command was a program
    always_ff @(posedge clk_i) begin
      if (!rst_ni) begin
        for (int unsigned d = 0; d < DIES; d++) cov_prog_q[d] <= 1'b0;
      end else if (mon_cmd[c]) begin
        cov_prog_q[mon_die[c]] <= mon_prog[c];
      end
    end
    wire [TS_W-1:0] cov_len = {{(TS_W - TW){1'b0}}, len_q[mon_die[c]]};
    wire cov_near_t = mon_xfer[c] && since_cmd > cov_len && since_cmd - cov_len <= TS_W'(2);
    c_near_t_r: cover property (@(posedge clk_i) disable iff (!rst_ni) cov_near_t && !cov_prog_q[mon_die[c]]);
    c_near_t_prog: cover property (@(posedge clk_i) disable iff (!rst_ni) cov_near_t && cov_prog_q[mon_die[c]]);
    c_near_xfer_gap: cover property (@(posedge clk_i) disable iff (!rst_ni) mon_xfer[c] && since_xfer >= {{(TS_W - 16){1'b0}}, cfg_xfer_gap_i} && since_xfer - {{(TS_W - 16){1'b0}}, cfg_xfer_gap_i} < TS_W'(2));
    c_queue_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) q_out_valid[c] && !op_ready[c]);
`endif
  end

  assign hc_ready_o = q_in_ready[hc_ch_i];
  assign ch_room_o  = q_in_ready;

  // ---- host read-back (one READ_BEAT outstanding at a time) -------------------------------------
  always_comb begin
    hr_valid_o = 1'b0;
    hr_data_o  = out_data[0];
    for (int unsigned c = 0; c < NCH; c++) begin
      if (out_valid[c] && out_host[c] && !hr_valid_o) begin
        hr_valid_o = 1'b1;
        hr_data_o  = out_data[c];
      end
    end
  end

  assign mon_read_o = mon_cmd & ~mon_prog;
  assign mon_prog_o = mon_prog;
  assign mon_xfer_o = mon_xfer;
  assign idle_o     = &ch_idle && !(|q_out_valid);
  assign err_o      = |ch_err;

  // ---- violation count --------------------------------------------------------------------------
  logic [1:0]  kind_q;
  logic [15:0] count_q;
  logic [15:0] n_viol;
  always_comb begin
    n_viol = '0;
    for (int unsigned c = 0; c < NCH; c++) begin
      n_viol = n_viol + 16'(viol_tr[c]) + 16'(viol_slot[c]);
    end
  end
  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      kind_q  <= '0;
      count_q <= '0;
    end else begin
      kind_q  <= kind_q | {|viol_slot, |viol_tr};
      count_q <= (17'(count_q) + 17'(n_viol) > 17'hffff) ? 16'hffff : count_q + n_viol;
    end
  end
  assign viol_o       = |(viol_tr | viol_slot);
  assign viol_kind_o  = kind_q;
  assign viol_count_o = count_q;

`ifndef SYNTHESIS
  // Cover points (rtl/README.md, Coverage): host back-pressure, host reads, channels in parallel.
  c_hc_wait: cover property (@(posedge clk_i) disable iff (!rst_ni) hc_valid_i && !hc_ready_o);
  c_host_read: cover property (@(posedge clk_i) disable iff (!rst_ni) hr_valid_o);
  c_parallel_xfer: cover property (@(posedge clk_i) disable iff (!rst_ni) (mon_xfer & (mon_xfer - NCH'(1))) != '0);
  c_beats_no_pu_ready: cover property (@(posedge clk_i) disable iff (!rst_ni) beat_valid_o != '0 && !pu_ready_i);
`endif
endmodule
