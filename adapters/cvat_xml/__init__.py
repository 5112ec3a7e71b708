"""CVAT's own export formats, "CVAT for images 1.1" and "CVAT for video 1.1" XML: a hardened streaming
reader and a streaming writer that know nothing of annoflow's model (the simulator writes with the
same writer), and the bridge between their objects and annoflow's labels (`labels.py`), the import
(`importing.py`) and the export (`exporting.py`)."""
