"""3DMPPE (Moon et al. 2019): RootNet and PoseNet in PyTorch, loading the official checkpoints."""
