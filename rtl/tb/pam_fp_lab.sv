// pam_fp_lab: test top instantiating every PAM floating-point unit once so a
// host testbench can compare them bit for bit with src/golden/fp.rs.
//
// Combinational outputs (latency 0): h2f_o = fp16_to_fp32(h_i),
// mul_o / add_o / max_o = op(a_i, b_i), exp_o = exp(a_i), ln_o = ln(a_i),
// f2h_o = fp32_to_fp16(a_i).
// Reciprocal: rcp_o = recip(a_i) through the pam_fp32_recip handshake; a_i is
// sampled on the edge where rcp_valid_i && rcp_ready_o; the result is valid
// 26 cycles later (rcp_out_valid_o) until taken with rcp_out_ready_i.

module pam_fp_lab
  import pam_fp_pkg::*;
(
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic [FP32_W-1:0] a_i,
  input  logic [FP32_W-1:0] b_i,
  input  logic [FP16_W-1:0] h_i,
  output logic [FP32_W-1:0] h2f_o,
  output logic [FP32_W-1:0] mul_o,
  output logic [FP32_W-1:0] add_o,
  output logic [FP32_W-1:0] max_o,
  output logic [FP32_W-1:0] exp_o,
  output logic [FP32_W-1:0] ln_o,
  output logic [FP16_W-1:0] f2h_o,
  input  logic              rcp_valid_i,
  output logic              rcp_ready_o,
  output logic              rcp_out_valid_o,
  input  logic              rcp_out_ready_i,
  output logic [FP32_W-1:0] rcp_o
);

  pam_fp16_to_fp32 u_h2f (.a_i (h_i), .y_o (h2f_o));
  pam_fp32_mul     u_mul (.a_i (a_i), .b_i (b_i), .y_o (mul_o));
  pam_fp32_add     u_add (.a_i (a_i), .b_i (b_i), .y_o (add_o));
  pam_fp32_max     u_max (.a_i (a_i), .b_i (b_i), .y_o (max_o));
  pam_fp32_exp     u_exp (.x_i (a_i), .y_o (exp_o));
  pam_fp32_ln      u_ln  (.x_i (a_i), .y_o (ln_o));
  pam_fp32_to_fp16 u_f2h (.a_i (a_i), .y_o (f2h_o));

  pam_fp32_recip u_rcp (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .in_valid_i  (rcp_valid_i),
    .in_ready_o  (rcp_ready_o),
    .x_i         (a_i),
    .out_valid_o (rcp_out_valid_o),
    .out_ready_i (rcp_out_ready_i),
    .y_o         (rcp_o)
  );

endmodule
