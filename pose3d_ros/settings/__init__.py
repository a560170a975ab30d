"""Settings declared once (:mod:`.schema`), every surface made from them (:mod:`.surfaces`)."""
