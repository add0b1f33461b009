from django.urls import path

from governance import views

urlpatterns = [
    path("cameras/", views.camera_list, name="cameras"),
    # Camera codes come from CSV imports and may carry a slash.
    path("cameras/<path:code>/", views.camera_detail, name="camera-detail"),
    path("legal-bases/", views.legal_basis_list, name="legal-bases"),
    path("legal-bases/<slug:code>/", views.legal_basis_detail, name="legal-basis-detail"),
    path("regulation/", views.regulation, name="regulation"),
]
