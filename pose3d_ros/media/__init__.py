"""Files of frames: what an input path is, video files, and rosbag2 bags in and out."""
