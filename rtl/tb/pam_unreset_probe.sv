// pam_unreset_probe: test top with one register deliberately left out of reset, to show that
// X-randomised runs (`pam regress --xrand`) catch a register read before it is reset
// (`pam regress --suite unreset-probe`, tests/xrand.rs). Not hardware.
//
// Sums the values data_i offered with valid_i since reset: sum_o is their 32-bit wrapping sum,
// count_o how many there were. count_q is reset; sum_q deliberately is not, so sum_o is right
// only in a simulator that starts every register at zero, as `--x-initial fast` does.
// Latency: 1 cycle (both outputs are registers).

module pam_unreset_probe (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        valid_i,
  input  logic [31:0] data_i,
  output logic [31:0] sum_o,
  output logic [15:0] count_o
);

  logic [31:0] sum_q;
  logic [15:0] count_q;

  always_ff @(posedge clk_i) begin
    if (!rst_ni) begin
      count_q <= '0;
    end else if (valid_i) begin
      count_q <= count_q + 16'd1;
    end
  end

  // The deliberate bug: no `if (!rst_ni) sum_q <= '0;` branch. Lint has no rule for a missing
  // reset, so nothing here needs a waiver; the X-randomised regression is what finds it.
  always_ff @(posedge clk_i) begin
    if (rst_ni && valid_i) begin
      sum_q <= sum_q + data_i;
    end
  end

  assign sum_o   = sum_q;
  assign count_o = count_q;

endmodule
