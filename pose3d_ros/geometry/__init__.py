"""Camera geometry and metric root estimation; numpy and torch only, no ROS."""
