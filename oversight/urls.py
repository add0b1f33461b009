from django.urls import path

from oversight import views

app_name = "oversight"
urlpatterns = [
    path("", views.ledger, name="ledger"),
    path("events/<int:seq>/", views.event_detail, name="event"),
    path("verify/", views.verify, name="verify"),
    path("reports/", views.reports, name="reports"),
    path("reports/<int:pk>/", views.report_detail, name="report"),
    path("reports/<int:pk>/<str:kind>/", views.report_file, name="report-file"),
    path("dossier/<str:reference>/", views.dossier, name="dossier"),
    path("bundles/", views.bundles, name="bundles"),
    path("bundles/<int:pk>/", views.bundle_detail, name="bundle"),
    path("bundles/<int:pk>/zip/", views.bundle_file, name="bundle-file"),
]
