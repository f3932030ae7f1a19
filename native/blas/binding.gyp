{
  "targets": [
    {
      "target_name": "medtune_blas",
      "sources": ["blas.c"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu", "/usr/include/aarch64-linux-gnu", "/usr/include/openblas"],
      "libraries": ["-ldl", "-lpthread", "-lm"],
      "cflags": ["-O3", "-ffast-math"]
    }
  ]
}
