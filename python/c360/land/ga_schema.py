"""The explicit DuckDB type of one GA 360 export session.

DuckDB infers a JSON field that is null throughout its sample as NULL and then drops every
later value of it, so GA JSON is never read with inference: every field the models use is
typed here, field names exactly as in the BigQuery export. Sub-objects that no model reads
yet are kept whole as JSON text, so landing loses nothing that was delivered under them.
"""
from __future__ import annotations

_PAGE = {
    "pagePath": "VARCHAR", "hostname": "VARCHAR", "pageTitle": "VARCHAR",
    "searchKeyword": "VARCHAR", "searchCategory": "VARCHAR",
    "pagePathLevel1": "VARCHAR", "pagePathLevel2": "VARCHAR",
    "pagePathLevel3": "VARCHAR", "pagePathLevel4": "VARCHAR",
}
_TRANSACTION = {
    "transactionId": "VARCHAR", "transactionRevenue": "BIGINT", "transactionTax": "BIGINT",
    "transactionShipping": "BIGINT", "affiliation": "VARCHAR", "currencyCode": "VARCHAR",
    "localTransactionRevenue": "BIGINT", "localTransactionTax": "BIGINT",
    "localTransactionShipping": "BIGINT", "transactionCoupon": "VARCHAR",
}
_PRODUCT = {
    "productSKU": "VARCHAR", "v2ProductName": "VARCHAR", "v2ProductCategory": "VARCHAR",
    "productVariant": "VARCHAR", "productBrand": "VARCHAR",
    "productRevenue": "BIGINT", "localProductRevenue": "BIGINT",
    "productPrice": "BIGINT", "localProductPrice": "BIGINT", "productQuantity": "BIGINT",
    "productRefundAmount": "BIGINT", "localProductRefundAmount": "BIGINT",
    "isImpression": "BOOLEAN", "isClick": "BOOLEAN",
    "customDimensions": "JSON", "customMetrics": "JSON",
    "productListName": "VARCHAR", "productListPosition": "BIGINT", "productCouponCode": "VARCHAR",
}
_HIT = {
    "hitNumber": "BIGINT", "time": "BIGINT", "hour": "BIGINT", "minute": "BIGINT",
    "isSecure": "BOOLEAN", "isInteraction": "BOOLEAN", "isEntrance": "BOOLEAN",
    "isExit": "BOOLEAN", "referer": "VARCHAR", "type": "VARCHAR", "dataSource": "VARCHAR",
    "page": _PAGE,
    "transaction": _TRANSACTION,
    "eCommerceAction": {"action_type": "VARCHAR", "step": "BIGINT", "option": "VARCHAR"},
    "eventInfo": {"eventCategory": "VARCHAR", "eventAction": "VARCHAR",
                  "eventLabel": "VARCHAR", "eventValue": "BIGINT"},
    "product": [_PRODUCT],
    # Delivered, not modelled yet: kept verbatim as JSON text.
    "item": "JSON", "contentInfo": "JSON", "appInfo": "JSON", "exceptionInfo": "JSON",
    "promotion": "JSON", "promotionActionInfo": "JSON", "refund": "JSON",
    "experiment": "JSON", "publisher": "JSON", "customVariables": "JSON",
    "customDimensions": "JSON", "customMetrics": "JSON", "social": "JSON",
    "latencyTracking": "JSON", "sourcePropertyInfo": "JSON", "contentGroup": "JSON",
    "publisher_infos": "JSON",
}
_TOTALS = {
    name: "BIGINT" for name in (
        "visits", "hits", "pageviews", "timeOnSite", "bounces", "transactions",
        "transactionRevenue", "newVisits", "screenviews", "uniqueScreenviews",
        "timeOnScreen", "totalTransactionRevenue", "sessionQualityDim",
    )
}
_TRAFFIC_SOURCE = {
    "referralPath": "VARCHAR", "campaign": "VARCHAR", "source": "VARCHAR",
    "medium": "VARCHAR", "keyword": "VARCHAR", "adContent": "VARCHAR",
    "adwordsClickInfo": {
        "campaignId": "BIGINT", "adGroupId": "BIGINT", "creativeId": "BIGINT",
        "criteriaId": "BIGINT", "page": "BIGINT", "slot": "VARCHAR",
        "criteriaParameters": "VARCHAR", "gclId": "VARCHAR", "customerId": "BIGINT",
        "adNetworkType": "VARCHAR", "targetingCriteria": "JSON", "isVideoAd": "BOOLEAN",
    },
    "isTrueDirect": "BOOLEAN", "campaignCode": "VARCHAR",
}
_DEVICE = {
    name: "VARCHAR" for name in (
        "browser", "browserVersion", "browserSize", "operatingSystem",
        "operatingSystemVersion", "mobileDeviceBranding", "mobileDeviceModel",
        "mobileInputSelector", "mobileDeviceInfo", "mobileDeviceMarketingName",
        "flashVersion", "language", "screenColors", "screenResolution", "deviceCategory",
    )
} | {"isMobile": "BOOLEAN", "javaEnabled": "BOOLEAN"}
_GEO_NETWORK = {
    name: "VARCHAR" for name in (
        "continent", "subContinent", "country", "region", "metro", "city", "cityId",
        "networkDomain", "latitude", "longitude", "networkLocation",
    )
}

# One session, top-level columns in the export's order.
GA_SESSION = {
    "visitorId": "BIGINT",
    "visitNumber": "BIGINT",
    "visitId": "BIGINT",
    "visitStartTime": "BIGINT",
    "date": "VARCHAR",
    "totals": _TOTALS,
    "trafficSource": _TRAFFIC_SOURCE,
    "device": _DEVICE,
    "geoNetwork": _GEO_NETWORK,
    "customDimensions": [{"index": "BIGINT", "value": "VARCHAR"}],
    "hits": [_HIT],
    "fullVisitorId": "VARCHAR",
    "userId": "VARCHAR",
    "clientId": "VARCHAR",
    "channelGrouping": "VARCHAR",
    "socialEngagementType": "VARCHAR",
}

# A session without these cannot be placed in the visitor -> session -> hit hierarchy.
GA_REQUIRED = ("fullVisitorId", "visitId", "date")
