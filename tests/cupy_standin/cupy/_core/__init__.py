"""The stand-in's private `cupy._core`: only the cuBLAS compute-type switch (backend.allow_tf32)."""
