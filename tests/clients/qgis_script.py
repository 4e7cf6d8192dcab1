"""Open the live API in QGIS headless; print what QGIS sees, as JSON. Run by Debian's /usr/bin/python3.

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 qgis_script.py BASE_URL COLLECTION...

For each OGC collection (the OAPIF provider, all features read): whether the layer is valid,
its ``featureCount()``, the features read, the layer's geometry type and the types of its
features. Then the incidents' vector tiles as a QGIS vector tile layer (``xyz`` URL template):
the pixels it paints when rendered over the z12 tile of the Capitole and over an empty tile.
"""

import json
import os
import sys

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorLayer,
    QgsVectorTileBasicRenderer,
    QgsVectorTileLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

ORIGIN = 20037508.342789244


def tile_extent(z, x, y):
    size = 2 * ORIGIN / 2**z
    return QgsRectangle(-ORIGIN + x * size, ORIGIN - (y + 1) * size, -ORIGIN + (x + 1) * size, ORIGIN - y * size)


def painted(layer, z, x, y):
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    settings.setExtent(tile_extent(z, x, y))
    settings.setOutputSize(QSize(256, 256))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    white = QColor(255, 255, 255).rgb()
    return sum(1 for i in range(256) for j in range(256) if image.pixel(i, j) != white)


def main():
    base, names = sys.argv[1], sys.argv[2:]
    app = QgsApplication([], False)
    app.initQgis()
    result = {"collections": {}}
    for name in names:
        layer = QgsVectorLayer(f"url='{base}/ogc/' typename='{name}'", name, "OAPIF")
        features = list(layer.getFeatures()) if layer.isValid() else []
        result["collections"][name] = {
            "valid": layer.isValid(),
            "feature_count": layer.featureCount(),
            "read": len(features),
            "layer_type": QgsWkbTypes.displayString(layer.wkbType()),
            "feature_types": sorted({QgsWkbTypes.displayString(f.geometry().wkbType()) for f in features}),
            "crs": layer.crs().authid(),
        }
    template = f"{base}/ogc/collections/incidents/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}"
    tiles = QgsVectorTileLayer(f"type=xyz&url={template}&zmin=0&zmax=22", "incidents tiles")
    renderer = QgsVectorTileBasicRenderer()
    renderer.setStyles(QgsVectorTileBasicRenderer.simpleStyleWithRandomColors())
    tiles.setRenderer(renderer)
    result["tiles"] = {
        "valid": tiles.isValid(),
        "painted_capitole": painted(tiles, 12, 2064, 1495),
        "painted_empty": painted(tiles, 12, 0, 0),
    }
    print(json.dumps(result), flush=True)
    # QgsApplication.exitQgis() crashes this headless build at exit (SIGSEGV): the results are out, leave.
    os._exit(0)


if __name__ == "__main__":
    main()
