"""The ROS 2 side: the lifecycle node, its parameters and message conversions."""
