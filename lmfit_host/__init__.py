"""lmfit-host: non-linear least-squares fitting over named Parameters, with pluggable engines."""
