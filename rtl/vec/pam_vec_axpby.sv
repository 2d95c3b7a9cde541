// pam_vec_axpby: y = x * a + z * b over LANES FP32 lanes with two scalars, combinational.
//
// The vector half of an online-softmax merge: rescales the accumulator by one factor and the
// incoming vector by the other. Each lane is two multiplies and one add, each rounding to
// nearest even: y[i] = add(mul(x[i], a), mul(z[i], b)). Latency 0 cycles.
module pam_vec_axpby #(
  parameter int unsigned LANES = 16
) (
  input  logic [LANES-1:0][31:0] x_i,
  input  logic [31:0]            a_i,
  input  logic [LANES-1:0][31:0] z_i,
  input  logic [31:0]            b_i,
  output logic [LANES-1:0][31:0] y_o
);
  for (genvar i = 0; i < LANES; i++) begin : g_lane
    logic [31:0] xa, zb;
    pam_fp32_mul u_mul_x (.a_i(x_i[i]), .b_i(a_i), .y_o(xa));
    pam_fp32_mul u_mul_z (.a_i(z_i[i]), .b_i(b_i), .y_o(zb));
    pam_fp32_add u_add   (.a_i(xa),     .b_i(zb),  .y_o(y_o[i]));
  end
endmodule
