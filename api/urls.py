from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from api import actions, docs, oversight_views, pages, release_views, views
from api.webhook_pages import webhook_deactivate, webhook_new, webhooks

app_name = "api"

urlpatterns = [
    path("v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("v1/docs/", docs.documentation, name="docs"),
    path("v1/legal-bases/", views.LegalBasisList.as_view(), name="legal-bases"),
    path("v1/legal-bases/<str:code>/", views.LegalBasisDetail.as_view(), name="legal-basis"),
    path("v1/data-categories/", views.DataCategoryList.as_view(), name="data-categories"),
    path("v1/cameras/", views.CameraList.as_view(), name="cameras"),
    path("v1/cameras/<str:code>/", views.CameraDetail.as_view(), name="camera"),
    path("v1/requests/", views.RequestCollection.as_view(), name="requests"),
    path("v1/requests/<str:reference>/", views.RequestDetail.as_view(), name="request"),
    path("v1/requests/<str:reference>/submit/", views.RequestSubmit.as_view(), name="request-submit"),
    path("v1/requests/<str:reference>/withdraw/", views.RequestWithdraw.as_view(), name="request-withdraw"),
    path("v1/requests/<str:reference>/letter/", views.RequestLetter.as_view(), name="request-letter"),
    path("v1/requests/<str:reference>/comments/", actions.RequestComment.as_view(), name="request-comment"),
    path("v1/requests/<str:reference>/review/", actions.RequestReview.as_view(), name="request-review"),
    path("v1/requests/<str:reference>/ask-info/", actions.RequestAskInfo.as_view(), name="request-ask-info"),
    path("v1/requests/<str:reference>/approve/", actions.RequestApprove.as_view(), name="request-approve"),
    path("v1/requests/<str:reference>/reject/", actions.RequestReject.as_view(), name="request-reject"),
    path("v1/requests/<str:reference>/release/", release_views.ReleaseDetail.as_view(), name="release"),
    path("v1/requests/<str:reference>/release/link/", release_views.ReleaseLink.as_view(), name="release-link"),
    path("v1/requests/<str:reference>/receipt/", actions.RequestReceipt.as_view(), name="request-receipt"),
    path("v1/downloads/<str:token>/", release_views.Download.as_view(), name="download"),
    path("v1/verify/", release_views.Verify.as_view(), name="verify"),
    path("v1/ledger/", views.Ledger.as_view(), name="ledger"),
    path("v1/reports/", oversight_views.ReportCollection.as_view(), name="reports"),
    path("v1/reports/<int:pk>/", oversight_views.ReportDetail.as_view(), name="report"),
    path("v1/bundles/", oversight_views.BundleCollection.as_view(), name="bundles"),
    path("v1/bundles/<int:pk>/", oversight_views.BundleDetail.as_view(), name="bundle"),
    path("accounts/", pages.service_accounts, name="service-accounts"),
    path("accounts/new/", pages.service_account_new, name="service-account-new"),
    path("accounts/<str:username>/", pages.service_account, name="service-account"),
    path("accounts/<str:username>/tokens/new/", pages.token_new, name="token-new"),
    path("tokens/<str:prefix>/revoke/", pages.token_revoke_page, name="token-revoke"),
    path("webhooks/", webhooks, name="webhooks"),
    path("webhooks/new/", webhook_new, name="webhook-new"),
    path("webhooks/<int:pk>/deactivate/", webhook_deactivate, name="webhook-deactivate"),
]
