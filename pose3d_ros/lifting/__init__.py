"""The Martinez et al. 2017 lifting network, its generated training data and weights."""
