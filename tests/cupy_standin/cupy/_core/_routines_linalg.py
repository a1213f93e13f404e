"""CuPy's cuBLAS compute-type switch; on the stand-in (NumPy's float32 products) it records the choice only."""
COMPUTE_TYPE_DEFAULT, COMPUTE_TYPE_TF32 = 1, 4
compute_types: dict = {}


def set_compute_type(dtype, compute_type) -> None:
    compute_types[dtype] = compute_type
