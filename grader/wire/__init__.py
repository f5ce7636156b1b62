"""The wire between the judge and the subject: plain data within bounds, in length-prefixed frames.

The subject runs beside student code, so everything it sends is hostile: ``codec`` decodes
only bounded plain data and never imports or runs anything named in it; ``channel`` frames
messages over one socket shared by threads; ``errors`` describes a live exception as data
without running any of its code, and gives the judge ``SubjectRaised``. Stdlib only;
imports nothing else from grader.
"""
