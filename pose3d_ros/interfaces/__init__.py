"""
ROS 2 interface packages the node publishes that PyPI has no wheel of, built here.

``tf2_msgs`` (TFMessage: the body frames on /tf) and the subset of ``hri_msgs`` REP-155's
bodies interface needs (IdsList, Skeleton2D, NormalizedRegionOfInterest2D,
NormalizedPointOfInterest2D): their definitions (``definitions/<package>/msg``) are ours,
field for field the upstream ones, so that the type hashes (RIHS01) are those of a ROS 2
install and the node interoperates with it. :mod:`.build` builds them with colcon from
PyPI's message generators; a ROS install (apt) has them and needs nothing built.
"""
