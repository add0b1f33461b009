from django.urls import path

from audit import views

app_name = "audit"
urlpatterns = [
    path("", views.ledger, name="ledger"),
    path("events/<int:seq>/", views.event_detail, name="event"),
    path("verify/", views.verify, name="verify"),
]
