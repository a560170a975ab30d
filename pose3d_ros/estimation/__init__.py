"""The multi-person 3D estimator (DetectNet, PoseNet and RootNet stages); no ROS imports."""
