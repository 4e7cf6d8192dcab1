"""Routes of the OGC API (Features and Tiles), mounted at /ogc/."""

from django.urls import path

from incidents.api.ogc import tiles, views

urlpatterns = [
    path("", views.LandingView.as_view(), name="ogc-landing"),
    path("conformance", views.ConformanceView.as_view(), name="ogc-conformance"),
    path("collections", views.CollectionsView.as_view(), name="ogc-collections"),
    path("collections/<str:collection_id>", views.CollectionView.as_view(), name="ogc-collection"),
    path("collections/<str:collection_id>/queryables", views.QueryablesView.as_view(), name="ogc-queryables"),
    path("collections/<str:collection_id>/items", views.ItemsView.as_view(), name="ogc-items"),
    path("collections/<str:collection_id>/items/<str:feature_id>", views.ItemView.as_view(), name="ogc-item"),
    path("collections/<str:collection_id>/tiles", tiles.TilesetsView.as_view(), name="ogc-tilesets"),
    path(
        "collections/<str:collection_id>/tiles/<str:tile_matrix_set_id>",
        tiles.TilesetView.as_view(),
        name="ogc-tileset",
    ),
    path(
        "collections/<str:collection_id>/tiles/<str:tile_matrix_set_id>/<str:tile_matrix>/<str:tile_row>/<str:tile_col>",
        tiles.TileView.as_view(),
        name="ogc-tile",
    ),
    path("tileMatrixSets", tiles.TileMatrixSetsView.as_view(), name="ogc-tile-matrix-sets"),
    path("tileMatrixSets/<str:tile_matrix_set_id>", tiles.TileMatrixSetView.as_view(), name="ogc-tile-matrix-set"),
]
