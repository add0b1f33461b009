from django.urls import path

from requests import views

app_name = "requests"
urlpatterns = [
    path("", views.request_list, name="list"),
    path("queue/", views.queue, name="queue"),
    path("new/", views.request_new, name="new"),
    path("cameras.json", views.cameras, name="cameras"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
    path("verify/", views.verify, name="verify"),
    path("verify/record/", views.verify_record, name="verify-record"),
    path("verify/<str:token>/", views.verify_release, name="verify-release"),
    path("verify/<str:token>/record/", views.verify_release_record, name="verify-release-record"),
    path("download/<str:token>/", views.download, name="download"),
    path("<str:reference>/", views.request_detail, name="detail"),
    path("<str:reference>/edit/", views.request_edit, name="edit"),
    path("<str:reference>/attachments/<int:pk>/", views.attachment, name="attachment"),
    path("<str:reference>/submit/", views.submit, name="submit"),
    path("<str:reference>/withdraw/", views.withdraw, name="withdraw"),
    path("<str:reference>/review/", views.review, name="review"),
    path("<str:reference>/ask-info/", views.ask_info, name="ask-info"),
    path("<str:reference>/approve/", views.approve, name="approve"),
    path("<str:reference>/reject/", views.reject, name="reject"),
    path("<str:reference>/comment/", views.comment, name="comment"),
    path("<str:reference>/export/", views.export_start, name="export"),
    path("<str:reference>/export/progress/", views.export_progress, name="export-progress"),
    path("<str:reference>/release/", views.release_detail, name="release"),
    path("<str:reference>/release/link/", views.release_link, name="release-link"),
    path("<str:reference>/release/revoke/", views.release_revoke, name="release-revoke"),
    path("<str:reference>/release/verification/revoke/", views.release_verification_revoke, name="release-verify-revoke"),
    path("<str:reference>/release/confirm/", views.release_confirm, name="release-confirm"),
    path("<str:reference>/release/acknowledge/", views.release_acknowledge, name="release-acknowledge"),
    path("<str:reference>/hold/", views.hold_place, name="hold"),
    path("<str:reference>/hold/lift/", views.hold_release, name="hold-lift"),
]
