"""The customer journey as a property graph: Neptune bulk-load export (`export.py`), an
embedded Gremlin engine loaded from those files (`engine.py`) and journey traversals
(`journey.py`)."""
from c360.graph.export import GraphExportError, export_graph

__all__ = ["GraphExportError", "export_graph"]
