from rest_framework.pagination import PageNumberPagination


class PagePagination(PageNumberPagination):
    """`?page=2&page_size=100`: numbered pages (50 by default, 200 at most) with `count`,
    `next` and `previous`. Lists order by a unique key, so pages never overlap."""

    page_size_query_param = "page_size"
    max_page_size = 200
